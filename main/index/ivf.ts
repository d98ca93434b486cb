/**
 * The IVF-PQ quantizer: a k-means coarse quantizer (nlist cells) and product quantization of
 * each vector's residual from its cell centroid, optionally after an OPQ rotation. Training,
 * encoding and the policy for when to (re)train live here; storage and search do not.
 */
import type { Assigner } from './assign.js';
import { nearestJs, pqEncodeJs } from './assign.js';
import { dot, matmul } from './kernels.js';
import { kmeans } from './kmeans.js';
import { trainOpq } from './opq.js';
import { chooseM, decode, entryTerm, KSUB, trainPq, type PqShape } from './pq.js';
import { gatherRows, rng, sampleIndices } from './random.js';

export interface Quantizer {
  readonly d: number;
  readonly nlist: number;
  readonly shape: PqShape;
  /** nlist × d, in the original space. */
  readonly centroids: Float32Array;
  readonly centroidNorms: Float32Array;
  /** d × d OPQ rotation applied to residuals before PQ, or null. */
  readonly rotation: Float32Array | null;
  /** centroids · rotation (equal to centroids without one): the entry terms need them. */
  readonly rotatedCentroids: Float32Array;
  readonly codebooks: Float32Array;
  /** How many vectors the collection held when this was trained. */
  readonly trainedCount: number;
  /** Mean squared residual reconstruction error on the training sample. */
  readonly distortion: number;
}

export interface Encoded {
  readonly lists: Int32Array;
  readonly codes: Uint8Array;
  readonly terms: Float32Array;
  /** Sum over rows of the squared reconstruction error (for drift detection). */
  readonly errorSum: number;
}

export type OpqMode = 'auto' | 'on' | 'off';

export interface TrainOptions {
  readonly nlist?: number;
  /** PQ bytes per vector (sub-quantizers); defaults to chooseM(d). Must divide d. */
  readonly m?: number;
  readonly opq?: OpqMode;
  readonly seed?: number;
  readonly kmeansIterations?: number;
  readonly pqIterations?: number;
}

/** Training points per coarse centroid (Faiss recommends 30–256). */
export const POINTS_PER_CENTROID = 32;
/** Below this many vectors the index stays flat (exact search): fast enough, and no training. */
export const FLAT_LIMIT = 4096;
/** OPQ is kept only if it lowers residual PQ distortion by at least this fraction. */
export const OPQ_MIN_GAIN = 0.03;

/** nlist ≈ 2·√n rounded to a power of two, at least 16 (and at most n / 39 so cells are trainable). */
export function chooseNlist(n: number): number {
  const target = 2 * Math.sqrt(Math.max(1, n));
  let nlist = 2 ** Math.round(Math.log2(target));
  while (nlist > 16 && nlist * 39 > n) nlist /= 2;
  return Math.max(16, nlist);
}

export interface IndexStats {
  readonly count: number;
  readonly trainedCount: number;
  readonly nlist: number;
  readonly addedSinceTrain: number;
  /** Mean reconstruction error of vectors added since training, and at training. */
  readonly recentDistortion: number;
  readonly trainDistortion: number;
  readonly flat: boolean;
}

export type RetrainReason = 'train' | 'grown' | 'drift' | 'shrunk';

/**
 * When to (re)train, as a rule that can be tested: a flat index past FLAT_LIMIT is trained; an
 * index that has grown to 4× the size it was trained at (so nlist ∝ √n should double) is
 * retrained; so is one where ≥10% new vectors reconstruct ≥25% worse than the training sample
 * did (the data drifted); one that shrank to half of FLAT_LIMIT goes back to exact search.
 * The limit can be moved (an evaluation forces IVF-PQ on a small collection, or exact search).
 */
export function retrainReason(s: IndexStats, flatLimit = FLAT_LIMIT): RetrainReason | null {
  if (s.flat) return s.count > flatLimit ? 'train' : null;
  if (s.count <= flatLimit / 2) return 'shrunk';
  if (s.count >= 4 * s.trainedCount) return 'grown';
  if (s.addedSinceTrain >= 0.1 * s.trainedCount && s.recentDistortion > 1.25 * s.trainDistortion) return 'drift';
  return null;
}

function residuals(x: Float32Array, n: number, d: number, centroids: Float32Array, lists: Int32Array): Float32Array {
  const r = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const co = lists[i]! * d;
    for (let t = 0; t < d; t++) r[i * d + t] = x[i * d + t]! - centroids[co + t]!;
  }
  return r;
}

export function finishQuantizer(base: Omit<Quantizer, 'centroidNorms' | 'rotatedCentroids'>, rotate: (c: Float32Array) => Float32Array): Quantizer {
  const { d, nlist, centroids } = base;
  const centroidNorms = new Float32Array(nlist);
  for (let j = 0; j < nlist; j++) centroidNorms[j] = dot(centroids, j * d, centroids, j * d, d);
  return {
    ...base,
    centroidNorms,
    rotatedCentroids: base.rotation ? rotate(centroids) : centroids,
  };
}

/** Trains on a sample of the given rows (all of them when few). */
export async function trainQuantizer(
  x: Float32Array,
  n: number,
  d: number,
  assigner: Assigner,
  options: TrainOptions = {},
): Promise<Quantizer> {
  const nlist = options.nlist ?? chooseNlist(n);
  const seed = options.seed ?? 1;
  const r = rng(seed);
  const sampleN = Math.min(n, Math.max(nlist * POINTS_PER_CENTROID, 256 * 40));
  const sample = sampleN === n ? x.subarray(0, n * d) : gatherRows(x, d, sampleIndices(n, sampleN, r));
  const coarse = await kmeans(sample, sampleN, d, nlist, assigner, { seed, iterations: options.kmeansIterations ?? 10 });
  const res = residuals(sample, sampleN, d, coarse.centroids, coarse.labels);
  const m = options.m ?? chooseM(d);
  if (d % m !== 0) throw new RangeError(`PQ with ${m} sub-quantizers does not divide dimension ${d}`);
  const shape: PqShape = { m, dsub: d / m };
  let rotation: Float32Array | null = null;
  let codebooks: Float32Array;
  let trainRows = res;
  const mode = options.opq ?? 'auto';
  if (mode !== 'off') {
    const opq = await trainOpq(res, sampleN, shape, assigner, { seed });
    if (mode === 'on' || opq.distortion < (1 - OPQ_MIN_GAIN) * opq.baseline) {
      rotation = opq.rotation;
      codebooks = opq.codebooks;
      trainRows = await assigner.matmul(res, rotation, sampleN, d, d);
    } else {
      codebooks = await trainPq(res, sampleN, shape, assigner, { seed, iterations: options.pqIterations ?? 10 });
    }
  } else {
    codebooks = await trainPq(res, sampleN, shape, assigner, { seed, iterations: options.pqIterations ?? 10 });
  }
  const codes = await assigner.pqEncode(trainRows, sampleN, codebooks, shape.m, KSUB, shape.dsub);
  const y = new Float32Array(d);
  let err = 0;
  for (let i = 0; i < sampleN; i++) {
    decode(codes, i * shape.m, codebooks, shape, y);
    for (let t = 0; t < d; t++) err += (trainRows[i * d + t]! - y[t]!) ** 2;
  }
  const rot = rotation;
  const rotatedCentroids = rot ? await assigner.matmul(coarse.centroids, rot, nlist, d, d) : coarse.centroids;
  return finishQuantizer(
    { d, nlist, shape, centroids: coarse.centroids, rotation, codebooks, trainedCount: n, distortion: err / sampleN },
    () => rotatedCentroids,
  );
}

function termsAndError(
  q: Quantizer,
  rotated: Float32Array,
  n: number,
  lists: Int32Array,
  codes: Uint8Array,
): { terms: Float32Array; errorSum: number } {
  const { d, shape, codebooks, rotatedCentroids } = q;
  const terms = new Float32Array(n);
  const y = new Float32Array(d);
  let errorSum = 0;
  for (let i = 0; i < n; i++) {
    terms[i] = entryTerm(rotatedCentroids, lists[i]! * d, codes, i * shape.m, codebooks, shape);
    decode(codes, i * shape.m, codebooks, shape, y);
    for (let t = 0; t < d; t++) errorSum += (rotated[i * d + t]! - y[t]!) ** 2;
  }
  return { terms, errorSum };
}

/** Encodes rows with a trained quantizer (bulk path: the heavy products go to the assigner). */
export async function encodeVectors(q: Quantizer, x: Float32Array, n: number, assigner: Assigner): Promise<Encoded> {
  const { d, shape } = q;
  const { labels } = await assigner.nearest(x, n, q.centroids, q.nlist, d);
  let res = residuals(x, n, d, q.centroids, labels);
  if (q.rotation) res = await assigner.matmul(res, q.rotation, n, d, d);
  const codes = await assigner.pqEncode(res, n, q.codebooks, shape.m, KSUB, shape.dsub);
  return { lists: labels, codes, ...termsAndError(q, res, n, labels, codes) };
}

/** Synchronous encoding for the small batches the live indexer adds. */
export function encodeVectorsSync(q: Quantizer, x: Float32Array, n: number): Encoded {
  const { d, shape } = q;
  const { labels } = nearestJs(x, n, q.centroids, q.nlist, d);
  let res = residuals(x, n, d, q.centroids, labels);
  if (q.rotation) res = matmul(res, q.rotation, n, d, d);
  const codes = pqEncodeJs(res, n, q.codebooks, shape.m, KSUB, shape.dsub);
  return { lists: labels, codes, ...termsAndError(q, res, n, labels, codes) };
}

/** The query in PQ space: rotated when the quantizer has an OPQ rotation. */
export function rotateQuery(q: Quantizer, query: Float32Array, out: Float32Array): Float32Array {
  const r = q.rotation;
  if (!r) return query;
  const d = q.d;
  out.fill(0);
  for (let p = 0; p < d; p++) {
    const v = query[p]!;
    const ro = p * d;
    for (let j = 0; j < d; j++) out[j]! += v * r[ro + j]!;
  }
  return out;
}
