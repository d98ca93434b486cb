/**
 * Categories' tables: zero-shot class embeddings and each picture's most likely class per
 * taxonomy; user-taught categories, their examples and their trained models.
 */
import type { UserCategoryInfo } from '../../contract/api.js';
import { float32s, toBlob } from '../blobs.js';
import { Repo } from './repo.js';

export interface CategoryRow {
  readonly id: number;
  readonly name: string;
}

export interface StoredClassEmbeddings {
  readonly digest: string;
  readonly classes: number;
  readonly dim: number;
  readonly data: Float32Array;
}

export interface StoredLinearModel {
  readonly weights: Float32Array;
  readonly center: Float32Array;
  readonly bias: number;
}

export class CategoriesRepo extends Repo {
  // ---- zero-shot ----

  classEmbeddings(space: string, taxonomy: string): StoredClassEmbeddings | null {
    const r = this.one<{ digest: string; classes: number; dim: number; data: Buffer }>(
      'SELECT digest, classes, dim, data FROM class_embeddings WHERE space = ? AND taxonomy = ?', space, taxonomy);
    return r ? { digest: r.digest, classes: r.classes, dim: r.dim, data: float32s(r.data) } : null;
  }

  /** Stores a taxonomy's class embeddings; the assignments made with earlier ones go. */
  putClassEmbeddings(space: string, taxonomy: string, e: StoredClassEmbeddings): void {
    this.transaction(() => {
      this.run('INSERT OR REPLACE INTO class_embeddings (space, taxonomy, digest, classes, dim, data) VALUES (?, ?, ?, ?, ?, ?)',
        space, taxonomy, e.digest, e.classes, e.dim, toBlob(e.data));
      this.run('DELETE FROM class_assignments WHERE space = ? AND taxonomy = ?', space, taxonomy);
    });
  }

  /** Global vectors of the space's pictures that have no class in the taxonomy yet. */
  unassigned(space: string, taxonomy: string): { item: number; vector: Float32Array }[] {
    return this.all<{ item: number; data: Buffer }>(
      `SELECT v.content_id AS item, v.data FROM vectors v
       WHERE v.space = ? AND v.region = 0
         AND NOT EXISTS (SELECT 1 FROM class_assignments a WHERE a.space = v.space AND a.taxonomy = ? AND a.content_id = v.content_id)`,
      space, taxonomy).map((r) => ({ item: r.item, vector: float32s(r.data) }));
  }

  assign(space: string, taxonomy: string, assignments: readonly { item: number; index: number; prob: number }[]): void {
    this.transaction(() => {
      for (const a of assignments) {
        this.run('INSERT OR REPLACE INTO class_assignments (space, taxonomy, content_id, class, prob) VALUES (?, ?, ?, ?, ?)', space, taxonomy, a.item, a.index, a.prob);
      }
    });
  }

  /** Classes of a taxonomy the library has, with indexed photo counts, at a confidence threshold. */
  classCounts(space: string, taxonomy: string, threshold: number): { class: number; n: number }[] {
    return this.all(
      `SELECT a.class, count(DISTINCT p.id) AS n FROM class_assignments a
       JOIN contents c ON c.id = a.content_id JOIN photos p ON p.hash = c.hash AND p.state = 'ok'
       WHERE a.space = ? AND a.taxonomy = ? AND a.prob >= ? GROUP BY a.class ORDER BY n DESC, a.class`,
      space, taxonomy, threshold);
  }

  /** Contents whose most likely class is this one, at least this probable. */
  members(space: string, taxonomy: string, classIndex: number, threshold: number): Map<number, number> {
    const rows = this.all<{ content_id: number; prob: number }>(
      'SELECT content_id, prob FROM class_assignments WHERE space = ? AND taxonomy = ? AND class = ? AND prob >= ?', space, taxonomy, classIndex, threshold);
    return new Map(rows.map((r) => [r.content_id, r.prob]));
  }

  // ---- taught by the user ----

  byName(name: string): CategoryRow | null {
    return this.one<CategoryRow>('SELECT id, name FROM user_categories WHERE name = ?', name) ?? null;
  }

  byId(id: number): CategoryRow | null {
    return this.one<CategoryRow>('SELECT id, name FROM user_categories WHERE id = ?', id) ?? null;
  }

  list(space: string | null): UserCategoryInfo[] {
    return this.all<UserCategoryInfo>(
      `SELECT c.id, c.name,
         (SELECT count(*) FROM user_category_examples e WHERE e.category_id = c.id AND e.positive = 1) AS positives,
         (SELECT count(*) FROM user_category_examples e WHERE e.category_id = c.id AND e.positive = 0) AS negatives,
         (SELECT trained_at FROM user_category_models m WHERE m.category_id = c.id AND m.space = ?) AS trainedAt
       FROM user_categories c ORDER BY c.name`, space ?? '');
  }

  /** The category of this name, created when new. */
  upsert(name: string, now: number): CategoryRow {
    this.run('INSERT INTO user_categories (name, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at', name, now, now);
    return this.byName(name)!;
  }

  putExample(categoryId: number, photoId: number, positive: boolean, now: number): void {
    this.run('INSERT OR REPLACE INTO user_category_examples (category_id, photo_id, positive, added_at) VALUES (?, ?, ?, ?)', categoryId, photoId, positive ? 1 : 0, now);
  }

  removeExample(categoryId: number, photoId: number): void {
    this.run('DELETE FROM user_category_examples WHERE category_id = ? AND photo_id = ?', categoryId, photoId);
  }

  delete(name: string): boolean {
    return this.run('DELETE FROM user_categories WHERE name = ?', name).changes > 0;
  }

  /** The global vectors of a category's examples (or counter-examples) in a space, one per content. */
  exampleVectors(space: string, categoryId: number, positive: boolean): { item: number; vector: Float32Array }[] {
    return this.all<{ item: number; data: Buffer }>(
      `SELECT DISTINCT c.id AS item, v.data FROM user_category_examples e JOIN photos p ON p.id = e.photo_id
       JOIN contents c ON c.hash = p.hash JOIN vectors v ON v.content_id = c.id AND v.space = ? AND v.region = 0
       WHERE e.category_id = ? AND e.positive = ? ORDER BY c.id`, space, categoryId, positive ? 1 : 0).map((r) => ({ item: r.item, vector: float32s(r.data) }));
  }

  /** A fixed, deterministic pseudo-random sample of a space's pictures (multiplicative hash of the content id). */
  background(space: string, limit: number): { item: number; vector: Float32Array }[] {
    return this.all<{ item: number; data: Buffer }>(
      'SELECT content_id AS item, data FROM vectors WHERE space = ? AND region = 0 ORDER BY (content_id * 2654435761) % 4294967291, content_id LIMIT ?',
      space, limit).map((r) => ({ item: r.item, vector: float32s(r.data) }));
  }

  putModel(categoryId: number, space: string, model: StoredLinearModel, now: number): void {
    this.run('INSERT OR REPLACE INTO user_category_models (category_id, space, dim, weights, center, bias, trained_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      categoryId, space, model.weights.length, toBlob(model.weights), toBlob(model.center), model.bias, now);
  }

  model(categoryId: number, space: string): StoredLinearModel | null {
    const r = this.one<{ weights: Buffer; center: Buffer; bias: number }>('SELECT weights, center, bias FROM user_category_models WHERE category_id = ? AND space = ?', categoryId, space);
    return r ? { weights: float32s(r.weights), center: float32s(r.center), bias: r.bias } : null;
  }

  /** The contents of a category's examples: all, or only the positive (true) or counter- (false) ones. */
  exampleItems(categoryId: number, positive?: boolean): Set<number> {
    return new Set(this.all<{ id: number }>(
      'SELECT c.id FROM user_category_examples e JOIN photos p ON p.id = e.photo_id JOIN contents c ON c.hash = p.hash WHERE e.category_id = ? AND e.positive IN (?, ?)',
      categoryId, positive === false ? 0 : 1, positive === true ? 1 : 0).map((r) => r.id));
  }
}
