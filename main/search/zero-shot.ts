/**
 * Zero-shot categories: a taxonomy's classes become text embeddings (each class the normalised
 * mean of its prompt templates), computed once per CLIP space and kept in SQLite; each picture's
 * most likely class is recorded for browsing with counts.
 */
import { createHash } from 'node:crypto';
import type { CategoryCount } from '../contract/api.js';
import type { CategoriesRepo } from '../db/repos/categories.js';
import { fillTemplate } from './query.js';
import { dotProduct, softmax, weightedMean } from './rank.js';
import type { Taxonomy } from './taxonomies.js';

export interface TextEncoder {
  embedTexts(texts: readonly string[]): Promise<Float32Array[]>;
}

function digest(t: Taxonomy): string {
  return createHash('sha256').update(JSON.stringify([t.classes, t.templates])).digest('hex').slice(0, 16);
}

/** The class embeddings of a taxonomy in a space (computed on first use, then read from SQLite). */
export async function classEmbeddings(
  repo: CategoriesRepo, enc: TextEncoder, space: string, t: Taxonomy, onProgress?: (done: number, total: number) => void,
): Promise<Float32Array[]> {
  const d = digest(t);
  const stored = repo.classEmbeddings(space, t.name);
  if (stored && stored.digest === d && stored.classes === t.classes.length) {
    return Array.from({ length: stored.classes }, (_, i) => stored.data.subarray(i * stored.dim, (i + 1) * stored.dim));
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
  repo.putClassEmbeddings(space, t.name, { digest: d, classes: out.length, dim, data });
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
export function assignClasses(repo: CategoriesRepo, space: string, taxonomy: string, classes: readonly Float32Array[]): number {
  const rows = repo.unassigned(space, taxonomy);
  repo.assign(space, taxonomy, rows.map((r) => ({ item: r.item, ...classify(r.vector, classes) })));
  return rows.length;
}

/** Which classes of a taxonomy the library has, with photo counts, at a confidence threshold. */
export function classCounts(repo: CategoriesRepo, space: string, t: Taxonomy, threshold: number): CategoryCount[] {
  return repo.classCounts(space, t.name, threshold).map((r) => ({ taxonomy: t.name, name: t.classes[r.class]!, count: r.n }));
}
