/**
 * Fine-grained categories. Zero-shot: a taxonomy's classes become text embeddings (each class the
 * normalised mean of its prompt templates), computed once per CLIP space and kept in SQLite; each
 * picture's most likely class is recorded for browsing with counts. User-taught: a per-category
 * linear probe on the picture embeddings (search/learn.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { CategoryCount, TaxonomyInfo, UserCategoryInfo } from '../contract/api.js';
import { float32s, toBlob } from '../db/blobs.js';
import type { Db } from '../db/database.js';
import { fillTemplate } from './query.js';
import { probability, trainLinear, type LinearModel } from './learn.js';
import { dotProduct, softmax, weightedMean } from './rank.js';
import { UserError } from '../contract/errors.js';

const TaxonomySchema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string(),
  classes: z.array(z.string().min(1)).min(1),
  templates: z.array(z.string().includes('{}')).min(1),
  source: z.string(),
});
export type Taxonomy = z.infer<typeof TaxonomySchema>;

export function taxonomyDir(): string {
  for (const rel of ['../../resources/taxonomies/', '../../../resources/taxonomies/']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('resources/taxonomies is missing from this installation');
}

const cache = new Map<string, Taxonomy>();

export function loadTaxonomy(name: string, dir = taxonomyDir()): Taxonomy {
  const key = `${dir}\0${name}`;
  let t = cache.get(key);
  if (!t) {
    if (!/^[a-z0-9-]+$/.test(name)) throw new RangeError(`no taxonomy named ${JSON.stringify(name)}`);
    const file = `${dir}/${name}.json`;
    if (!existsSync(file)) throw new RangeError(`no taxonomy named ${name} (have: ${listTaxonomies(dir).map((x) => x.name).join(', ')})`);
    t = TaxonomySchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    cache.set(key, t);
  }
  return t;
}

export function listTaxonomies(dir = taxonomyDir()): TaxonomyInfo[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => {
    const t = loadTaxonomy(f.slice(0, -5), dir);
    return { name: t.name, title: t.title, classes: t.classes.length };
  });
}

/** Finds a class by name (case- and punctuation-insensitive), in one taxonomy or in all of them. */
export function findClass(name: string, taxonomy: string | null, dir = taxonomyDir()): { taxonomy: string; index: number; name: string } | null {
  const norm = (s: string): string => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
  const want = norm(name);
  const names = taxonomy ? [taxonomy] : listTaxonomies(dir).map((t) => t.name);
  for (const tn of names) {
    const t = loadTaxonomy(tn, dir);
    const index = t.classes.findIndex((c) => norm(c) === want);
    if (index >= 0) return { taxonomy: tn, index, name: t.classes[index]! };
  }
  return null;
}

export interface TextEncoder {
  embedTexts(texts: readonly string[]): Promise<Float32Array[]>;
}

function digest(t: Taxonomy): string {
  return createHash('sha256').update(JSON.stringify([t.classes, t.templates])).digest('hex').slice(0, 16);
}


/** The class embeddings of a taxonomy in a space (computed on first use, then read from SQLite). */
export async function classEmbeddings(db: Db, enc: TextEncoder, space: string, t: Taxonomy, onProgress?: (done: number, total: number) => void): Promise<Float32Array[]> {
  const d = digest(t);
  const row = db.prepare('SELECT digest, classes, dim, data FROM class_embeddings WHERE space = ? AND taxonomy = ?').get(space, t.name) as
    | { digest: string; classes: number; dim: number; data: Buffer }
    | undefined;
  if (row && row.digest === d && row.classes === t.classes.length) {
    const all = float32s(row.data);
    return Array.from({ length: row.classes }, (_, i) => all.subarray(i * row.dim, (i + 1) * row.dim));
  }
  const out: Float32Array[] = [];
  // Several classes per model call: sentences batch well, one class's templates alone may not.
  const perBatch = Math.max(1, Math.floor(64 / t.templates.length));
  for (let i = 0; i < t.classes.length; i += perBatch) {
    const names = t.classes.slice(i, i + perBatch);
    const vecs = await enc.embedTexts(names.flatMap((c) => t.templates.map((tpl) => fillTemplate(tpl, c))));
    names.forEach((_, j) => out.push(weightedMean(vecs.slice(j * t.templates.length, (j + 1) * t.templates.length))));
    onProgress?.(Math.min(t.classes.length, i + perBatch), t.classes.length);
  }
  const dim = out[0]!.length;
  const data = new Float32Array(out.length * dim);
  out.forEach((v, i) => data.set(v, i * dim));
  db.prepare('INSERT OR REPLACE INTO class_embeddings (space, taxonomy, digest, classes, dim, data) VALUES (?, ?, ?, ?, ?, ?)')
    .run(space, t.name, d, out.length, dim, toBlob(data));
  db.prepare('DELETE FROM class_assignments WHERE space = ? AND taxonomy = ?').run(space, t.name);
  return out;
}

/** The most likely class of a picture: index and softmax probability (CLIP's logit scale, 100). */
export function classify(v: Float32Array, classes: readonly Float32Array[]): { index: number; prob: number } {
  const sims = classes.map((c) => dotProduct(v, c));
  const p = softmax(sims);
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return { index: best, prob: p[best]! };
}

/** Records the most likely class of every picture of the space that has none yet. Returns how many were added. */
export function assignClasses(db: Db, space: string, taxonomy: string, classes: readonly Float32Array[]): number {
  const rows = db.prepare(
    `SELECT v.content_id AS item, v.data FROM vectors v
     WHERE v.space = ? AND v.region = 0
       AND NOT EXISTS (SELECT 1 FROM class_assignments a WHERE a.space = v.space AND a.taxonomy = ? AND a.content_id = v.content_id)`,
  ).all(space, taxonomy) as { item: number; data: Buffer }[];
  const insert = db.prepare('INSERT OR REPLACE INTO class_assignments (space, taxonomy, content_id, class, prob) VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const r of rows) {
      const c = classify(float32s(r.data), classes);
      insert.run(space, taxonomy, r.item, c.index, c.prob);
    }
  })();
  return rows.length;
}

/** Which classes of a taxonomy the library has, with photo counts, at a confidence threshold. */
export function classCounts(db: Db, space: string, t: Taxonomy, threshold: number): CategoryCount[] {
  const rows = db.prepare(
    `SELECT a.class, count(DISTINCT p.id) AS n FROM class_assignments a
     JOIN contents c ON c.id = a.content_id JOIN photos p ON p.hash = c.hash AND p.state = 'ok'
     WHERE a.space = ? AND a.taxonomy = ? AND a.prob >= ? GROUP BY a.class ORDER BY n DESC, a.class`,
  ).all(space, t.name, threshold) as { class: number; n: number }[];
  return rows.map((r) => ({ taxonomy: t.name, name: t.classes[r.class]!, count: r.n }));
}

// ---- user-taught categories ----

/** The user's to act on (see contract/errors.ts). */
export class CategoryError extends UserError {}

interface CategoryRow {
  id: number;
  name: string;
}

export function userCategory(db: Db, name: string): CategoryRow | null {
  return (db.prepare('SELECT id, name FROM user_categories WHERE name = ?').get(name.trim()) as CategoryRow | undefined) ?? null;
}

export function listUserCategories(db: Db, space: string | null): UserCategoryInfo[] {
  return (db.prepare(
    `SELECT c.id, c.name,
       (SELECT count(*) FROM user_category_examples e WHERE e.category_id = c.id AND e.positive = 1) AS positives,
       (SELECT count(*) FROM user_category_examples e WHERE e.category_id = c.id AND e.positive = 0) AS negatives,
       (SELECT trained_at FROM user_category_models m WHERE m.category_id = c.id AND m.space = ?) AS trainedAt
     FROM user_categories c ORDER BY c.name`,
  ).all(space ?? '') as UserCategoryInfo[]);
}

/** Adds examples (and counter-examples) to a category, creating it when new. */
export function addExamples(db: Db, name: string, positives: readonly number[], negatives: readonly number[]): CategoryRow {
  const clean = name.trim().replace(/\s+/g, ' ');
  if (clean.length === 0 || clean.length > 100) throw new CategoryError('a category needs a name of 1 to 100 characters');
  const now = Date.now();
  return db.transaction(() => {
    db.prepare('INSERT INTO user_categories (name, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at')
      .run(clean, now, now);
    const cat = userCategory(db, clean)!;
    const exists = db.prepare('SELECT 1 FROM photos WHERE id = ?');
    const put = db.prepare('INSERT OR REPLACE INTO user_category_examples (category_id, photo_id, positive, added_at) VALUES (?, ?, ?, ?)');
    for (const [ids, pos] of [[positives, 1], [negatives, 0]] as const) {
      for (const id of ids) {
        if (!exists.get(id)) throw new CategoryError(`no photo with id ${id}`);
        put.run(cat.id, id, pos, now);
      }
    }
    return cat;
  })();
}

export function removeExamples(db: Db, name: string, photoIds: readonly number[]): void {
  const cat = userCategory(db, name);
  if (!cat) throw new CategoryError(`no category named ${name}`);
  const del = db.prepare('DELETE FROM user_category_examples WHERE category_id = ? AND photo_id = ?');
  db.transaction(() => { for (const id of photoIds) del.run(cat.id, id); })();
}

export function deleteUserCategory(db: Db, name: string): boolean {
  return db.prepare('DELETE FROM user_categories WHERE name = ?').run(name.trim()).changes > 0;
}

function vectorsOf(db: Db, space: string, sql: string, ...params: (string | number)[]): { item: number; vector: Float32Array }[] {
  return (db.prepare(sql).all(space, ...params) as { item: number; data: Buffer }[]).map((r) => ({ item: r.item, vector: float32s(r.data) }));
}

const BACKGROUND = 256;

/**
 * Trains a category's classifier in a space from its examples alone (plus a fixed, library-only
 * background sample), and stores it. Nothing about other categories enters, so teaching one never
 * changes another's results.
 */
export function trainCategory(db: Db, name: string, space: string): LinearModel {
  const cat = userCategory(db, name);
  if (!cat) throw new CategoryError(`no category named ${name}`);
  const examples = (positive: number): { item: number; vector: Float32Array }[] => vectorsOf(db, space,
    `SELECT DISTINCT c.id AS item, v.data FROM user_category_examples e JOIN photos p ON p.id = e.photo_id
     JOIN contents c ON c.hash = p.hash JOIN vectors v ON v.content_id = c.id AND v.space = ? AND v.region = 0
     WHERE e.category_id = ? AND e.positive = ? ORDER BY c.id`, cat.id, positive);
  const pos = examples(1);
  const neg = examples(0);
  if (pos.length === 0) throw new CategoryError(`category ${cat.name} has no example photos with embeddings yet (add some, or wait for indexing)`);
  const labelled = new Set([...pos, ...neg].map((x) => x.item));
  // A deterministic pseudo-random sample (multiplicative hash of the content id).
  const background = vectorsOf(db, space,
    `SELECT content_id AS item, data FROM vectors WHERE space = ? AND region = 0 ORDER BY (content_id * 2654435761) % 4294967291, content_id LIMIT ?`,
    BACKGROUND + labelled.size).filter((x) => !labelled.has(x.item)).slice(0, BACKGROUND);
  const model = trainLinear(pos.map((x) => x.vector), neg.map((x) => x.vector), background.map((x) => x.vector));
  db.prepare('INSERT OR REPLACE INTO user_category_models (category_id, space, dim, weights, center, bias, trained_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(cat.id, space, model.weights.length, toBlob(model.weights), toBlob(model.center), model.bias, Date.now());
  return model;
}

export function storedModel(db: Db, categoryId: number, space: string): LinearModel | null {
  const r = db.prepare('SELECT weights, center, bias FROM user_category_models WHERE category_id = ? AND space = ?').get(categoryId, space) as
    | { weights: Buffer; center: Buffer; bias: number }
    | undefined;
  return r ? { weights: float32s(r.weights), center: float32s(r.center), bias: r.bias } : null;
}

export interface Suggestion {
  readonly item: number;
  readonly prob: number;
}

/** Every picture of the space scored by a category's model, most likely first; examples left out. */
export function scoreAll(db: Db, space: string, model: LinearModel, exclude: ReadonlySet<number>, minProb = 0.5): Suggestion[] {
  const out: Suggestion[] = [];
  for (const r of db.prepare('SELECT content_id AS item, data FROM vectors WHERE space = ? AND region = 0').iterate(space) as Iterable<{ item: number; data: Buffer }>) {
    if (exclude.has(r.item)) continue;
    const p = probability(model, float32s(r.data));
    if (p >= minProb) out.push({ item: r.item, prob: p });
  }
  return out.sort((a, b) => b.prob - a.prob || a.item - b.item);
}

/** The contents of a category's examples: all, or only the positive (true) or counter- (false) ones. */
export function exampleItems(db: Db, categoryId: number, positive?: boolean): Set<number> {
  return new Set((db.prepare(
    'SELECT c.id FROM user_category_examples e JOIN photos p ON p.id = e.photo_id JOIN contents c ON c.hash = p.hash WHERE e.category_id = ? AND e.positive IN (?, ?)',
  ).all(categoryId, positive === false ? 0 : 1, positive === true ? 1 : 0) as { id: number }[]).map((r) => r.id));
}
