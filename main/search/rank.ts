/**
 * Ranking functions, pure: vectors in, scores out. Everything here works on L2-normalised
 * vectors, where the dot product is the cosine similarity.
 */

import { dot } from '../index/kernels.js';

export function dotProduct(a: Float32Array, b: Float32Array): number {
  return dot(a, 0, b, 0, a.length);
}

/** The vector scaled to unit length; a zero vector stays zero. */
export function normalized(v: Float32Array): Float32Array {
  const n = Math.sqrt(dotProduct(v, v));
  const out = new Float32Array(v.length);
  if (n > 0) for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}

/** Σ wᵢ·vᵢ, normalised: prompt ensembles (equal weights), text + photo queries (a weight each). */
export function weightedMean(vectors: readonly Float32Array[], weights?: readonly number[]): Float32Array {
  if (vectors.length === 0) throw new RangeError('no vectors to combine');
  const dim = vectors[0]!.length;
  const sum = new Float32Array(dim);
  vectors.forEach((v, j) => {
    if (v.length !== dim) throw new RangeError(`vector ${j} has dimension ${v.length}, expected ${dim}`);
    const w = weights?.[j] ?? 1;
    for (let i = 0; i < dim; i++) sum[i]! += w * v[i]!;
  });
  return normalized(sum);
}

/**
 * The query for "this photo, but <text>": the two unit vectors mixed by `textWeight` (0: only the
 * photo, 1: only the text), then normalised.
 */
export function combineQuery(photo: Float32Array, text: Float32Array, textWeight: number): Float32Array {
  const w = Math.min(1, Math.max(0, textWeight));
  return weightedMean([photo, text], [1 - w, w]);
}

export interface Scored {
  readonly item: number;
  readonly score: number;
}

/**
 * Negative terms ("beach -people"): each candidate loses `lambda` × its similarity to the closest
 * negative concept, measured relative to how similar the negative is to the library in general
 * (`baselines`: the negative's mean similarity to the candidates), so a negative only pushes down
 * pictures that show it more than pictures usually do.
 */
export function penalizeNegatives(
  candidates: readonly Scored[], vectors: ReadonlyMap<number, Float32Array>, negatives: readonly Float32Array[], lambda = 1,
): Scored[] {
  if (negatives.length === 0) return [...candidates];
  const sims = negatives.map((n) => candidates.map((c) => {
    const v = vectors.get(c.item);
    return v ? dotProduct(n, v) : 0;
  }));
  const baselines = sims.map((s) => (s.length > 0 ? s.reduce((a, b) => a + b, 0) / s.length : 0));
  return candidates.map((c, i) => {
    let worst = 0;
    for (let j = 0; j < negatives.length; j++) worst = Math.max(worst, sims[j]![i]! - baselines[j]!);
    return { item: c.item, score: c.score - lambda * worst };
  });
}

/**
 * α-weighted average query expansion (Radenović et al., "Fine-tuning CNN image retrieval with no
 * human annotation"): the query plus its top `n` neighbours, each weighted by its similarity to
 * the query raised to the power α, renormalised. α = 0 is plain average QE.
 */
export function alphaQueryExpansion(query: Float32Array, neighbours: readonly Float32Array[], n = 10, alpha = 3): Float32Array {
  const used = neighbours.slice(0, n);
  const weights = [1, ...used.map((v) => Math.max(0, dotProduct(query, v)) ** alpha)];
  return weightedMean([query, ...used], weights);
}

/**
 * Diffusion re-ranking on the candidates' k-nearest-neighbour graph (Iscen et al., "Efficient
 * diffusion on region manifolds", CVPR 2017, and Zhou et al.'s ranking on data manifolds):
 * affinities aᵢⱼ = max(0, xᵢ·xⱼ)^γ kept between reciprocal k-nearest neighbours, symmetrically
 * normalised (S = D^-½ A D^-½), and f = (1 − α)(I − αS)⁻¹ y solved by iteration, where y is the
 * query's own similarity to the candidates (^γ). Pictures reachable from the query through a chain
 * of close neighbours (other views of the same place) rise even when they look little like the
 * query itself. Returns one score per candidate, in the candidates' order.
 */
export function diffusionScores(
  query: Float32Array, candidates: readonly Float32Array[], opts: { k?: number; gamma?: number; alpha?: number; iterations?: number } = {},
): Float64Array {
  const n = candidates.length;
  const k = Math.min(opts.k ?? 10, Math.max(0, n - 1));
  const gamma = opts.gamma ?? 3;
  const alpha = opts.alpha ?? 0.9;
  const iterations = opts.iterations ?? 30;
  const sim = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = Math.max(0, dotProduct(candidates[i]!, candidates[j]!));
      sim[i * n + j] = s;
      sim[j * n + i] = s;
    }
  }
  // Each candidate's k nearest other candidates.
  const knn = Array.from({ length: n }, (_, i) => {
    const others = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i);
    others.sort((a, b) => sim[i * n + b]! - sim[i * n + a]! || a - b);
    return new Set(others.slice(0, k));
  });
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (const j of knn[i]!) if (knn[j]!.has(i)) a[i * n + j] = sim[i * n + j]! ** gamma;
  }
  const deg = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) deg[i]! += a[i * n + j]!;
  const inv = deg.map((d) => (d > 0 ? 1 / Math.sqrt(d) : 0));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.max(0, dotProduct(query, candidates[i]!)) ** gamma;
  let f = Float64Array.from(y);
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) {
        const w = a[i * n + j]!;
        if (w !== 0) s += inv[i]! * w * inv[j]! * f[j]!;
      }
      next[i] = alpha * s + (1 - alpha) * y[i]!;
    }
    f = next;
  }
  return f;
}

export interface Ranked {
  readonly id: number;
  readonly score: number;
}

/** Best first; equal scores by id, so the same query pages the same way every time. */
export function stableOrder<T extends Ranked>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => b.score - a.score || a.id - b.id);
}

/** One page of a ranked list. */
export function page<T>(list: readonly T[], offset: number, limit: number): T[] {
  return list.slice(Math.max(0, offset), Math.max(0, offset) + Math.max(0, limit));
}

/** Softmax of `scale` × scores (CLIP's logit scale is 100). */
export function softmax(scores: ArrayLike<number>, scale = 100): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i]! * scale);
  const out = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    out[i] = Math.exp(scores[i]! * scale - max);
    sum += out[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

export interface Edge {
  readonly a: number;
  readonly b: number;
}

/** Connected components (union–find) of the items joined by edges; groups of two or more, each sorted, largest first. */
export function groups(edges: readonly Edge[]): number[][] {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (parent.get(r) !== undefined && parent.get(r) !== r) r = parent.get(r)!;
    let c = x;
    while (c !== r) {
      const next = parent.get(c)!;
      parent.set(c, r);
      c = next;
    }
    return r;
  };
  for (const { a, b } of edges) {
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(Math.max(ra, rb), Math.min(ra, rb));
  }
  const byRoot = new Map<number, number[]>();
  for (const x of parent.keys()) {
    const r = find(x);
    byRoot.set(r, [...(byRoot.get(r) ?? []), x]);
  }
  return [...byRoot.values()].filter((g) => g.length > 1).map((g) => g.sort((x, y) => x - y))
    .sort((x, y) => y.length - x.length || x[0]! - y[0]!);
}

/**
 * Whether two pictures belong together as near-duplicates: almost the same content, or a burst
 * (similar, taken by the same camera within `burstMs` of each other).
 */
export function nearDuplicate(
  similarity: number, a: { takenAtMs: number | null; camera: string | null }, b: { takenAtMs: number | null; camera: string | null },
  opts: { duplicate?: number; burst?: number; burstMs?: number } = {},
): boolean {
  if (similarity >= (opts.duplicate ?? 0.95)) return true;
  const close = a.takenAtMs !== null && b.takenAtMs !== null && Math.abs(a.takenAtMs - b.takenAtMs) <= (opts.burstMs ?? 10_000);
  return close && a.camera === b.camera && similarity >= (opts.burst ?? 0.85);
}
