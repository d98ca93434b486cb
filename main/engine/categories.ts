/** Categories as the user sees them: zero-shot taxonomies with counts, and categories taught by example. */
import type { CategoryCount, TaxonomyInfo, TeachResult, UserCategoryInfo } from '../contract/api.js';
import { toRecord } from '../db/repos/photos.js';
import { addExamples, CategoryError, scoreAll, trainCategory, type Suggestion } from '../search/taught.js';
import { listTaxonomies, loadTaxonomy } from '../search/taxonomies.js';
import { classCounts } from '../search/zero-shot.js';
import type { Library } from './library.js';

export class Categories {
  constructor(private readonly lib: Library) {}

  taxonomies(): TaxonomyInfo[] {
    return listTaxonomies();
  }

  async counts(taxonomy: string, threshold = 0.2, onProgress?: (done: number, total: number) => void): Promise<CategoryCount[]> {
    const { space } = await this.lib.searcher.prepareTaxonomy(taxonomy, onProgress);
    return classCounts(this.lib.repos.categories, space.space, loadTaxonomy(taxonomy), threshold);
  }

  list(): UserCategoryInfo[] {
    return this.lib.repos.categories.list(this.lib.searcher.space('clip')?.space ?? null);
  }

  /** Adds examples, retrains the category, and suggests the library's photos it now accepts. */
  teach(name: string, positives: readonly number[], negatives: readonly number[] = [], limit = 50): TeachResult {
    const { repos, searcher } = this.lib;
    const s = searcher.clipSpace('Teaching a category');
    const cat = addExamples(repos, name, positives, negatives);
    const t = performance.now();
    const model = trainCategory(repos.categories, cat.name, s.space);
    const trainMs = performance.now() - t;
    const suggestions = this.photosOf(scoreAll(repos.vectors, s.space, model, repos.categories.exampleItems(cat.id)).slice(0, limit));
    const info = repos.categories.list(s.space).find((c) => c.id === cat.id)!;
    return { category: info, trainMs, suggestions };
  }

  private photosOf(items: readonly Suggestion[]): TeachResult['suggestions'] {
    return items.flatMap((s) => this.lib.repos.photos.okByContent(s.item).map((p) => ({ photo: toRecord(p), probability: s.prob })));
  }

  delete(name: string): void {
    if (!this.lib.repos.categories.delete(name.trim())) throw new CategoryError(`no category named ${name}`);
  }
}
