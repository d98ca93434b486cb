/**
 * Categories the user teaches by example: a per-category linear probe on the picture embeddings
 * (search/learn.ts), trained from that category's examples alone.
 */
import { UserError } from '../contract/errors.js';
import type { CategoriesRepo, CategoryRow } from '../db/repos/categories.js';
import type { Repos } from '../db/repos/index.js';
import type { VectorStore } from '../db/repos/vectors.js';
import { probability, trainLinear, type LinearModel } from './learn.js';

/** The user's to act on (see contract/errors.ts). */
export class CategoryError extends UserError {}

/** Adds examples (and counter-examples) to a category, creating it when new. */
export function addExamples(repos: Repos, name: string, positives: readonly number[], negatives: readonly number[]): CategoryRow {
  const clean = name.trim().replace(/\s+/g, ' ');
  if (clean.length === 0 || clean.length > 100) throw new CategoryError('a category needs a name of 1 to 100 characters');
  const now = Date.now();
  return repos.transaction(() => {
    const cat = repos.categories.upsert(clean, now);
    for (const [ids, pos] of [[positives, true], [negatives, false]] as const) {
      for (const id of ids) {
        if (!repos.photos.exists(id)) throw new CategoryError(`no photo with id ${id}`);
        repos.categories.putExample(cat.id, id, pos, now);
      }
    }
    return cat;
  });
}

export function removeExamples(repos: Repos, name: string, photoIds: readonly number[]): void {
  const cat = repos.categories.byName(name.trim());
  if (!cat) throw new CategoryError(`no category named ${name}`);
  repos.transaction(() => { for (const id of photoIds) repos.categories.removeExample(cat.id, id); });
}

const BACKGROUND = 256;

/**
 * Trains a category's classifier in a space from its examples alone (plus a fixed, library-only
 * background sample), and stores it. Nothing about other categories enters, so teaching one never
 * changes another's results.
 */
export function trainCategory(repo: CategoriesRepo, name: string, space: string): LinearModel {
  const cat = repo.byName(name.trim());
  if (!cat) throw new CategoryError(`no category named ${name}`);
  const pos = repo.exampleVectors(space, cat.id, true);
  const neg = repo.exampleVectors(space, cat.id, false);
  if (pos.length === 0) throw new CategoryError(`category ${cat.name} has no example photos with embeddings yet (add some, or wait for indexing)`);
  const labelled = new Set([...pos, ...neg].map((x) => x.item));
  const background = repo.background(space, BACKGROUND + labelled.size).filter((x) => !labelled.has(x.item)).slice(0, BACKGROUND);
  const model = trainLinear(pos.map((x) => x.vector), neg.map((x) => x.vector), background.map((x) => x.vector));
  repo.putModel(cat.id, space, model, Date.now());
  return model;
}

export interface Suggestion {
  readonly item: number;
  readonly prob: number;
}

/** Every picture of the space scored by a category's model, most likely first; examples left out. */
export function scoreAll(
  vectors: VectorStore,
  space: string,
  model: LinearModel,
  exclude: ReadonlySet<number>,
  minProb = 0.5,
): Suggestion[] {
  const out: Suggestion[] = [];
  for (const r of vectors.eachGlobal(space)) {
    if (exclude.has(r.item)) continue;
    const p = probability(model, r.vector);
    if (p >= minProb) out.push({ item: r.item, prob: p });
  }
  return out.sort((a, b) => b.prob - a.prob || a.item - b.item);
}

/** A taught category's pictures in a space: its examples, and those its classifier accepts. */
export function members(repos: Repos, space: string, categoryId: number): Map<number, number> {
  const { categories } = repos;
  const name = categories.byId(categoryId)!.name;
  const model = categories.model(categoryId, space) ?? trainCategory(categories, name, space);
  const out = new Map<number, number>([...categories.exampleItems(categoryId, true)].map((i) => [i, 1] as const));
  for (const sug of scoreAll(repos.vectors, space, model, categories.exampleItems(categoryId))) out.set(sug.item, sug.prob);
  return out;
}
