/**
 * Synthetic embeddings for index tests and benchmarks: a two-level mixture of Gaussians on the
 * unit sphere (topics, each with sub-topics), which gives neighbourhoods at several scales the
 * way real image embeddings have. Deterministic from a seed.
 */
import { normalizeRows } from '../../main/index/kernels.js';
import { gaussian, rng } from '../../main/index/random.js';

export interface MixtureSpec {
  readonly d: number;
  readonly topics: number;
  readonly subtopicsPerTopic: number;
  /** Spread of sub-topic centres around their topic, and of points around their sub-topic (per-vector norm of the noise). */
  readonly topicSpread: number;
  readonly pointSpread: number;
  readonly seed: number;
}

export const DEFAULT_MIXTURE: Omit<MixtureSpec, 'd' | 'seed'> = { topics: 1000, subtopicsPerTopic: 100, topicSpread: 0.6, pointSpread: 0.35 };

export class Mixture {
  private readonly subcentres: Float32Array;
  private readonly subs: number;

  constructor(readonly spec: MixtureSpec) {
    const { d, topics, subtopicsPerTopic, topicSpread } = spec;
    const r = rng(spec.seed);
    const scale = 1 / Math.sqrt(d);
    const tops = new Float32Array(topics * d).map(() => gaussian(r));
    normalizeRows(tops, d);
    this.subs = topics * subtopicsPerTopic;
    this.subcentres = new Float32Array(this.subs * d);
    for (let s = 0; s < this.subs; s++) {
      const t = Math.floor(s / subtopicsPerTopic);
      for (let j = 0; j < d; j++) this.subcentres[s * d + j] = tops[t * d + j]! + topicSpread * scale * gaussian(r);
    }
    normalizeRows(this.subcentres, d);
  }

  /** n unit vectors; `stream` picks an independent sequence (e.g. base set vs queries). */
  sample(n: number, stream: number): Float32Array {
    const { d, pointSpread } = this.spec;
    const r = rng(this.spec.seed * 7919 + stream * 104729 + 1);
    const scale = pointSpread / Math.sqrt(d);
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const s = Math.floor(r() * this.subs);
      for (let j = 0; j < d; j++) out[i * d + j] = this.subcentres[s * d + j]! + scale * gaussian(r);
    }
    return normalizeRows(out, d);
  }
}

/** Exact k nearest rows of base (n × d) for each query, by squared L2, ascending. */
export function bruteForce(base: Float32Array, n: number, queries: Float32Array, nq: number, d: number, k: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let q = 0; q < nq; q++) {
    const best: { i: number; dist: number }[] = [];
    let worst = Infinity;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = base[i * d + j]! - queries[q * d + j]!;
        s += diff * diff;
      }
      if (best.length < k || s < worst) {
        best.push({ i, dist: s });
        best.sort((a, b) => a.dist - b.dist);
        if (best.length > k) best.pop();
        worst = best[best.length - 1]!.dist;
      }
    }
    out.push(Int32Array.from(best, (b) => b.i));
  }
  return out;
}

/** Fraction of the true top-k found in the returned top-k, averaged over queries. */
export function recallAtK(truth: readonly Int32Array[], found: readonly (readonly number[])[], k: number): number {
  let hit = 0;
  truth.forEach((t, q) => {
    const f = new Set(found[q]!.slice(0, k));
    for (let i = 0; i < k; i++) if (f.has(t[i]!)) hit++;
  });
  return hit / (truth.length * k);
}
