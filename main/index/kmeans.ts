/**
 * Lloyd's k-means with k-means++ or sampled initialisation. Assignment (the n·k·d part) is
 * delegated to an Assigner; the centroid update and empty-cluster repair are here.
 */
import type { Assigner } from './assign.js';
import { l2sq } from './kernels.js';
import { gatherRows, rng, sampleIndices, type Rng } from './random.js';

export interface KMeansOptions {
  readonly iterations?: number;
  readonly seed?: number;
  /** 'auto' uses k-means++ when n·k is small enough to afford its k sequential passes. */
  readonly init?: 'kmeans++' | 'sample' | 'auto';
  /** Stop early when the objective improves by less than this fraction. */
  readonly tolerance?: number;
}

export interface KMeansResult {
  readonly centroids: Float32Array;
  readonly labels: Int32Array;
  /** Mean squared distance of a point to its centroid, after each iteration. */
  readonly objective: readonly number[];
}

const KMEANSPP_BUDGET = 2e8;

export function kmeansPlusPlus(x: Float32Array, n: number, d: number, k: number, r: Rng): Float32Array {
  const c = new Float32Array(k * d);
  const closest = new Float64Array(n).fill(Infinity);
  let pick = Math.floor(r() * n);
  for (let j = 0; j < k; j++) {
    c.set(x.subarray(pick * d, pick * d + d), j * d);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const dd = l2sq(x, i * d, c, j * d, d);
      if (dd < closest[i]!) closest[i] = dd;
      total += closest[i]!;
    }
    if (j === k - 1) break;
    if (total === 0) {
      pick = Math.floor(r() * n);
      continue;
    }
    let target = r() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      target -= closest[i]!;
      if (target <= 0) {
        pick = i;
        break;
      }
    }
  }
  return c;
}

/**
 * Recomputes centroids as the means of their points. An empty cluster takes half of the largest
 * one: both get that centroid nudged in opposite directions (as Faiss does), so no centroid is wasted.
 */
export function updateCentroids(
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  labels: Int32Array,
  previous: Float32Array,
  r: Rng,
): Float32Array {
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    counts[l]!++;
    const xo = i * d;
    const so = l * d;
    for (let t = 0; t < d; t++) sums[so + t]! += x[xo + t]!;
  }
  const c = new Float32Array(k * d);
  for (let j = 0; j < k; j++) {
    if (counts[j] === 0) {
      c.set(previous.subarray(j * d, j * d + d), j * d);
      continue;
    }
    for (let t = 0; t < d; t++) c[j * d + t] = sums[j * d + t]! / counts[j]!;
  }
  for (let j = 0; j < k; j++) {
    if (counts[j] !== 0) continue;
    let big = 0;
    for (let b = 1; b < k; b++) if (counts[b]! > counts[big]!) big = b;
    if (counts[big]! < 2) break;
    const eps = 1 / 1024;
    for (let t = 0; t < d; t++) {
      const v = c[big * d + t]!;
      const s = r() < 0.5 ? -1 : 1;
      c[j * d + t] = v * (1 + s * eps);
      c[big * d + t] = v * (1 - s * eps);
    }
    counts[j] = counts[big]! / 2;
    counts[big] = counts[big]! / 2;
  }
  return c;
}

export async function kmeans(
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  assigner: Assigner,
  options: KMeansOptions = {},
): Promise<KMeansResult> {
  if (n < k) throw new RangeError(`k-means needs at least k=${k} points, got ${n}`);
  const r = rng(options.seed ?? 1);
  const init = options.init ?? 'auto';
  const usePlusPlus = init === 'kmeans++' || (init === 'auto' && n * k * d <= KMEANSPP_BUDGET);
  let centroids = usePlusPlus ? kmeansPlusPlus(x, n, d, k, r) : gatherRows(x, d, sampleIndices(n, k, r));
  const iterations = options.iterations ?? 12;
  const tolerance = options.tolerance ?? 1e-4;
  const objective: number[] = [];
  let labels: Int32Array = new Int32Array(n);
  for (let it = 0; it < iterations; it++) {
    const a = await assigner.nearest(x, n, centroids, k, d);
    labels = a.labels;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += a.dist[i]!;
    objective.push(sum / n);
    centroids = updateCentroids(x, n, d, k, labels, centroids, r);
    const prev = objective[objective.length - 2];
    if (prev !== undefined && prev - objective[objective.length - 1]! < tolerance * prev) break;
  }
  return { centroids, labels, objective };
}
