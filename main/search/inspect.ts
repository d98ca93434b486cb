/**
 * What the library's own quality checks ask of it (the evaluation harness, through the engine's
 * facade): a picture's stored vector, sentences and class names embedded in the serving CLIP
 * space, and how closely the vector index agrees with an exact scan.
 */
import type { ModelKind } from '../contract/api.js';
import { l2sq } from '../index/kernels.js';
import { requireSpace, type SearchContext } from './context.js';
import { POOL } from './search.js';
import { loadTaxonomy } from './taxonomies.js';
import { classEmbeddings } from './zero-shot.js';

export interface IndexAgreement {
  /** Mean over the queries of |index top k ∩ exact top k| / k. */
  readonly recall: number;
  readonly queries: number;
  /** What the index is: exact (flat) or IVF-PQ with its lists. */
  readonly structure: string;
}

/** A photo's stored global vector in the serving space of a kind, or null (not embedded). */
export function photoVector(ctx: SearchContext, photoId: number, kind: ModelKind): Float32Array | null {
  const s = ctx.spaces.info(kind);
  const c = ctx.repos.photos.contentOf(photoId);
  return s && c ? ctx.repos.vectors.global(s.space, c.contentId) : null;
}

/** How many pictures and vectors (global and regional) the serving space of a kind holds. */
export function spaceSize(ctx: SearchContext, kind: ModelKind): { pictures: number; vectors: number } {
  const s = requireSpace(ctx, kind, 'Counting vectors');
  return { pictures: ctx.repos.vectors.pictures(s.space), vectors: ctx.repos.vectors.count(s.space) };
}

/** Sentences embedded by the serving CLIP pack's text model, as they are (no prompt templates). */
export async function embedTexts(ctx: SearchContext, texts: readonly string[]): Promise<Float32Array[]> {
  const s = requireSpace(ctx, 'clip', 'Embedding sentences');
  const enc = await ctx.encoders.clip(s.pack);
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += 64) out.push(...(await enc.embedTexts(texts.slice(i, i + 64))));
  return out;
}

/**
 * Zero-shot class vectors for a list of classes, made with the prompt templates of a shipped
 * taxonomy exactly as the engine makes a taxonomy's (kept under `name`).
 */
export async function classVectors(
  ctx: SearchContext, name: string, classes: readonly string[], templatesOf: string,
): Promise<Float32Array[]> {
  const s = requireSpace(ctx, 'clip', 'Zero-shot classes');
  const base = loadTaxonomy(templatesOf);
  const enc = await ctx.encoders.clip(s.pack);
  return classEmbeddings(ctx.repos.categories, enc, s.space, {
    name, title: name, classes: [...classes], templates: base.templates, source: `given classes, templates of ${base.name}`,
  });
}

/**
 * Recall@k of the index against an exact scan of every vector of the serving space, in the
 * index's own metric (the nearest vector, squared L2, of each picture), asked as search asks it
 * (a pool of candidates, of which the top k are shown).
 */
export async function indexAgreement(
  ctx: SearchContext, kind: ModelKind, queries: readonly Float32Array[], k: number,
): Promise<IndexAgreement> {
  const s = requireSpace(ctx, kind, 'Checking the index');
  const index = await ctx.indexes.get(s.space, s.dim);
  const vectors = ctx.repos.vectors.allOf(s.space);
  const recalls: number[] = [];
  for (const q of queries) {
    const best = new Map<number, number>();
    for (const { item, vector } of vectors) {
      const dist = l2sq(q, 0, vector, 0, vector.length);
      if (dist < (best.get(item) ?? Number.POSITIVE_INFINITY)) best.set(item, dist);
    }
    const exact = new Set([...best].sort((a, b) => a[1] - b[1] || a[0] - b[0]).slice(0, k).map(([item]) => item));
    if (exact.size === 0) continue;
    const approx = index.search(q, { k: POOL, groupByItem: true }).slice(0, k).map((h) => h.item);
    recalls.push(approx.filter((item) => exact.has(item)).length / exact.size);
  }
  const structure = index.isFlat ? 'exact (flat)' : `IVF-PQ (nlist ${index.nlist}${index.usesRotation ? ', OPQ' : ''})`;
  return { recall: recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : NaN, queries: recalls.length, structure };
}
