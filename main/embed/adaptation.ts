/**
 * A light projection learned from the user's own library on top of the frozen (whitened) CNN
 * descriptors: y = normalise(A·x), A a d × d matrix started at the identity and kept near it.
 *
 * It is trained by instance discrimination over the library's own pictures (InfoNCE): two views
 * of one picture — its whole-picture descriptor and its R-MAC regions, which are crops of it the
 * index already holds — must be closer to each other than to any other picture's view in the
 * batch. Two targets are offered:
 *   - 'codes': the other view as the product quantizer reconstructs it (codebooks learned again on
 *     the projected features every few steps), the self-supervision of unsupervised deep
 *     quantization (cross-quantized contrastive learning, as in SPQ): features learn to fall into
 *     the same PQ cells as their other views;
 *   - 'views': the other view itself.
 * The user's confirmations add rows of their own: pictures marked as showing the same object or
 * place are each other's positives (a Siamese pair with the rest of the batch as negatives).
 *
 * Training is a few hundred SGD steps of batched matrix products (the assigner's GEMM), seconds
 * on two cores; the Copydays benchmark chose the defaults (docs/evaluation.md).
 */
import type { Assigner } from '../index/assign.js';
import { normalizeRows, transpose } from '../index/kernels.js';
import { identity } from '../index/opq.js';
import { decode, trainPq, type PqShape } from '../index/pq.js';
import { gatherRows, rng as seeded, sampleIndices, type Rng } from '../index/random.js';

export type AdaptationTarget = 'views' | 'codes';

/** The training set: views of pictures (whitened, L2-normalised), grouped by picture. */
export interface AdaptationViews {
  readonly d: number;
  /** n × d rows. */
  readonly x: Float32Array;
  /** Row offsets of each picture's views (pictures + 1 entries); a picture's first view is its global one. */
  readonly starts: Int32Array;
  /** Pairs of pictures (indexes into starts) the user marked as the same object or place. */
  readonly marked?: readonly (readonly [number, number])[];
}

export interface AdaptationOptions {
  readonly target?: AdaptationTarget;
  readonly steps?: number;
  /** Pictures per step (capped at the library). */
  readonly batch?: number;
  /** Marked pairs per step. */
  readonly markedBatch?: number;
  readonly learningRate?: number;
  readonly temperature?: number;
  /** Weight of ‖A − I‖² (per dimension), which keeps the projection light. */
  readonly regularisation?: number;
  /** 'codes': steps between learning the codebooks again, and their sub-quantizers. */
  readonly refresh?: number;
  readonly subquantizers?: number;
  readonly seed?: number;
}

export interface Adaptation {
  readonly d: number;
  /** d × d, row-major: y = A·x. */
  readonly matrix: Float32Array;
  readonly target: AdaptationTarget;
  /** Marked pairs it learned from. */
  readonly marked: number;
  /** Mean InfoNCE loss of the first and last tenth of the steps. */
  readonly loss: { readonly first: number; readonly last: number };
  readonly ms: number;
}

/** The defaults the Copydays tables chose (40, 400 and 4,000 pictures). */
export const ADAPTATION_DEFAULTS = {
  target: 'views', steps: 200, batch: 256, markedBatch: 64, learningRate: 0.3, temperature: 0.1,
  regularisation: 1, refresh: 20, subquantizers: 16, seed: 5,
} as const satisfies Required<AdaptationOptions>;

/** y = normalise(A·x). */
export function applyAdaptation(a: { readonly d: number; readonly matrix: Float32Array }, x: Float32Array): Float32Array {
  const { d, matrix } = a;
  const out = new Float32Array(d);
  let norm = 0;
  for (let i = 0; i < d; i++) {
    let s = 0;
    const o = i * d;
    for (let j = 0; j < d; j++) s += matrix[o + j]! * x[j]!;
    out[i] = s;
    norm += s * s;
  }
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < d; i++) out[i]! *= inv;
  return out;
}

/** The same for n rows at once (the assigner's GEMM): X·Aᵀ, rows normalised. */
export async function applyAdaptationRows(
  a: { readonly d: number; readonly matrix: Float32Array }, x: Float32Array, n: number, assigner: Assigner,
): Promise<Float32Array> {
  return normalizeRows(await assigner.matmul(x, transpose(a.matrix, a.d, a.d), n, a.d, a.d), a.d);
}

/** Normalises rows in place and returns their norms before (the gradient goes back through them). */
function normaliseKeepingNorms(x: Float32Array, n: number, d: number): Float32Array {
  const norms = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j]! ** 2;
    const r = Math.sqrt(s) || 1;
    norms[i] = r;
    for (let j = 0; j < d; j++) x[i * d + j]! /= r;
  }
  return norms;
}

/** One InfoNCE pass over rows (anchor i's positive is key i; keys of the same group are not negatives). */
interface Rows {
  readonly anchors: Int32Array;
  readonly keys: Int32Array;
  readonly groups: Int32Array;
}

/** Union–find roots: marked pictures share a group, so neither is the other's negative. */
function groupsOf(pictures: number, marked: readonly (readonly [number, number])[]): Int32Array {
  const parent = Int32Array.from({ length: pictures }, (_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (const [a, b] of marked) parent[root(a)] = root(b);
  return Int32Array.from({ length: pictures }, (_, i) => root(i));
}

class Trainer {
  private readonly d: number;
  private readonly o: Required<AdaptationOptions>;
  private readonly r: Rng;
  private readonly groups: Int32Array;
  private readonly pictures: number;
  readonly a: Float32Array;
  private codebooks: Float32Array | null = null;
  /** Aᵀ as of this step (the GEMMs take it as is). */
  private at: Float32Array;
  private readonly shape: PqShape;

  constructor(private readonly v: AdaptationViews, opts: AdaptationOptions, private readonly assigner: Assigner) {
    this.d = v.d;
    this.o = { ...ADAPTATION_DEFAULTS, ...opts };
    this.r = seeded(this.o.seed);
    this.pictures = v.starts.length - 1;
    this.groups = groupsOf(this.pictures, v.marked ?? []);
    this.a = identity(this.d);
    this.at = identity(this.d);
    const m = this.d % this.o.subquantizers === 0 ? this.o.subquantizers : 1;
    this.shape = { m, dsub: this.d / m };
  }

  private view(p: number): number {
    const s = this.v.starts[p]!;
    return s + Math.floor(this.r() * (this.v.starts[p + 1]! - s));
  }

  /** This step's rows: two random views of a batch of pictures, then marked pairs (global views). */
  private rows(): Rows {
    const ps = sampleIndices(this.pictures, this.o.batch, this.r);
    const pairs = this.v.marked ?? [];
    const ms = pairs.length === 0 ? [] : sampleIndices(pairs.length, this.o.markedBatch, this.r);
    const n = ps.length + ms.length;
    const anchors = new Int32Array(n);
    const keys = new Int32Array(n);
    const groups = new Int32Array(n);
    ps.forEach((p, i) => {
      anchors[i] = this.view(p);
      keys[i] = this.view(p);
      groups[i] = this.groups[p]!;
    });
    ms.forEach((m, j) => {
      const [p, q] = this.r() < 0.5 ? pairs[m]! : [pairs[m]![1], pairs[m]![0]];
      anchors[ps.length + j] = this.v.starts[p]!;
      keys[ps.length + j] = this.v.starts[q]!;
      groups[ps.length + j] = this.groups[p]!;
    });
    return { anchors, keys, groups };
  }

  private async project(rows: Int32Array): Promise<{ z: Float32Array; norms: Float32Array; x: Float32Array }> {
    const x = gatherRows(this.v.x, this.d, rows);
    const z = await this.assigner.matmul(x, this.at, rows.length, this.d, this.d);
    return { z, norms: normaliseKeepingNorms(z, rows.length, this.d), x };
  }

  /** The keys as the product quantizer reconstructs them ('codes'), normalised. */
  private async quantised(z: Float32Array, n: number): Promise<Float32Array> {
    if (!this.codebooks) return z;
    const { m, dsub } = this.shape;
    const codes = await this.assigner.pqEncode(z, n, this.codebooks, m, 256, dsub);
    const out = new Float32Array(n * this.d);
    for (let i = 0; i < n; i++) decode(codes, i * m, this.codebooks, this.shape, out, i * this.d);
    return normalizeRows(out, this.d);
  }

  /** Codebooks of the features as projected now (this.at is this step's). */
  private async learnCodebooks(step: number): Promise<void> {
    const n = this.v.x.length / this.d;
    const sample = sampleIndices(n, 20_000, this.r);
    const { z } = await this.project(sample);
    this.codebooks = await trainPq(z, sample.length, this.shape, this.assigner, { iterations: 6, seed: step + 1 });
  }

  /** Adds the gradient of one direction (anchors against keys) to g; returns its loss. */
  private async direction(anchors: Int32Array, keys: Int32Array, groups: Int32Array, g: Float32Array): Promise<number> {
    const n = anchors.length;
    const d = this.d;
    const t = this.o.temperature;
    const za = await this.project(anchors);
    const zk = await this.project(keys);
    const k = this.o.target === 'codes' ? await this.quantised(zk.z, n) : zk.z;
    const logits = await this.assigner.matmul(za.z, transpose(k, n, d), n, d, n);
    let loss = 0;
    const p = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        // Another view of the same picture or a picture marked the same is not a negative.
        const masked = j !== i && groups[j] === groups[i];
        const s = masked ? -Infinity : logits[i * n + j]! / t;
        p[i * n + j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j < n; j++) sum += (p[i * n + j] = Math.exp(p[i * n + j]! - max));
      for (let j = 0; j < n; j++) p[i * n + j]! /= sum;
      loss -= Math.log(Math.max(p[i * n + i]!, 1e-12));
      p[i * n + i]! -= 1;
    }
    // dL/dz = (P − I)·K / (t·n); through the normalisation: (I − z zᵀ)/‖u‖; dL/dA = Gᵀ·X.
    const gz = await this.assigner.matmul(p, k, n, n, d);
    for (let i = 0; i < n; i++) {
      let dz = 0;
      for (let j = 0; j < d; j++) dz += gz[i * d + j]! * za.z[i * d + j]!;
      const scale = 1 / (t * n * za.norms[i]!);
      for (let j = 0; j < d; j++) gz[i * d + j] = (gz[i * d + j]! - dz * za.z[i * d + j]!) * scale;
    }
    const ga = await this.assigner.matmul(transpose(gz, n, d), za.x, d, n, d);
    for (let i = 0; i < d * d; i++) g[i]! += ga[i]!;
    return loss / n;
  }

  async train(): Promise<{ first: number; last: number }> {
    const d = this.d;
    const { steps, learningRate, regularisation, refresh } = this.o;
    const losses: number[] = [];
    const g = new Float32Array(d * d);
    for (let step = 0; step < steps; step++) {
      this.at = transpose(this.a, d, d);
      if (this.o.target === 'codes' && step % refresh === 0) await this.learnCodebooks(step);
      const { anchors, keys, groups } = this.rows();
      g.fill(0);
      // Both directions: each view is the other's target.
      const loss = (await this.direction(anchors, keys, groups, g) + await this.direction(keys, anchors, groups, g)) / 2;
      losses.push(loss);
      const reg = (2 * regularisation) / d;
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          const at = i * d + j;
          this.a[at]! -= learningRate * (g[at]! + reg * (this.a[at]! - (i === j ? 1 : 0)));
        }
      }
    }
    const tenth = Math.max(1, Math.floor(losses.length / 10));
    const avg = (xs: number[]): number => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : 0);
    return { first: avg(losses.slice(0, tenth)), last: avg(losses.slice(-tenth)) };
  }
}

/** Learns the projection; with no pictures or no steps it is the identity. */
export async function learnAdaptation(views: AdaptationViews, assigner: Assigner, opts: AdaptationOptions = {}): Promise<Adaptation> {
  const started = Date.now();
  const trainer = new Trainer(views, opts, assigner);
  const loss = views.starts.length > 2 ? await trainer.train() : { first: 0, last: 0 };
  return {
    d: views.d, matrix: trainer.a, target: opts.target ?? ADAPTATION_DEFAULTS.target,
    marked: views.marked?.length ?? 0, loss, ms: Date.now() - started,
  };
}
