/**
 * The projection adapted to a library (embed/adaptation.ts), trained by onnxruntime's GEMM on
 * pictures made of a content direction each and nuisance directions shared by all — the way crops,
 * light and compression move a real picture's descriptor. Views of one picture differ only in
 * nuisance; new views (never trained on) must find their picture more often after adapting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAssigner, type Assigner } from '../../main/index/assign.js';
import { applyAdaptation, applyAdaptationRows, learnAdaptation, type AdaptationViews } from '../../main/embed/adaptation.js';
import { gaussian, rng, type Rng } from '../../main/index/random.js';

const D = 32;
const PICTURES = 40;
const VIEWS = 6;
const NUISANCE = 6;

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

interface World {
  readonly content: Float32Array[];
  readonly nuisance: Float32Array[];
  readonly r: Rng;
}

function world(seed: number): World {
  const r = rng(seed);
  const vec = (): Float32Array => Float32Array.from({ length: D }, () => gaussian(r));
  return { content: Array.from({ length: PICTURES }, vec), nuisance: Array.from({ length: NUISANCE }, vec), r };
}

/** A view of picture p: its content plus a strong random mix of the shared nuisance directions. */
function view(w: World, p: number): Float32Array {
  const v = Float32Array.from(w.content[p]!);
  for (const n of w.nuisance) {
    const c = 1.2 * gaussian(w.r);
    for (let i = 0; i < D; i++) v[i]! += c * n[i]!;
  }
  return unit(v);
}

function trainingSet(w: World, marked?: readonly (readonly [number, number])[]): AdaptationViews {
  const x = new Float32Array(PICTURES * VIEWS * D);
  for (let p = 0; p < PICTURES; p++) for (let k = 0; k < VIEWS; k++) x.set(view(w, p), (p * VIEWS + k) * D);
  return { d: D, x, starts: Int32Array.from({ length: PICTURES + 1 }, (_, i) => i * VIEWS), marked };
}

/** Fresh views, never trained on: 10 per picture. */
function freshViews(w: World): Float32Array[] {
  return Array.from({ length: PICTURES * 10 }, (_, t) => view(w, t % PICTURES));
}

/** Share of fresh views whose nearest picture (by its first training view) is their own. */
function recallAt1(fresh: readonly Float32Array[], set: AdaptationViews, project: (v: Float32Array) => Float32Array): number {
  const gallery = Array.from({ length: PICTURES }, (_, p) => project(set.x.slice(p * VIEWS * D, p * VIEWS * D + D)));
  let hits = 0;
  const trials = fresh.length;
  for (let t = 0; t < trials; t++) {
    const p = t % PICTURES;
    const q = project(fresh[t]!);
    let best = -Infinity;
    let arg = -1;
    gallery.forEach((g, i) => {
      const s = g.reduce((acc, x, j) => acc + x * q[j]!, 0);
      if (s > best) { best = s; arg = i; }
    });
    if (arg === p) hits++;
  }
  return hits / trials;
}

let assigner: Assigner;
beforeAll(async () => {
  assigner = await defaultAssigner();
});
afterAll(async () => {
  await assigner.close();
});

describe('adapted projection', () => {
  it('starts at the identity: no steps, the descriptors as they were', async () => {
    const w = world(1);
    const set = trainingSet(w);
    const a = await learnAdaptation(set, assigner, { steps: 0 });
    const v = view(w, 3);
    expect(Array.from(applyAdaptation(a, v))).toEqual(Array.from(v).map((x) => expect.closeTo(x, 6)));
  });

  for (const target of ['views', 'codes'] as const) {
    it(`learns what views of one picture share (${target}): new views find their picture more often`, async () => {
      const w = world(2);
      const set = trainingSet(w);
      const fresh = freshViews(w);
      const before = recallAt1(fresh, set, unit);
      const a = await learnAdaptation(set, assigner, { target, steps: 150, batch: 40, subquantizers: 4 });
      expect(a.loss.last).toBeLessThan(a.loss.first);
      const after = recallAt1(fresh, set, (v) => applyAdaptation(a, v));
      expect(after).toBeGreaterThan(before + 0.1);
    });
  }

  it('marked pictures are each other\'s positives: their descriptors come closer than without the mark', async () => {
    const w = world(3);
    const plain = trainingSet(w);
    const marked = { ...plain, marked: [[0, 1], [2, 3]] as const };
    const opts = { steps: 100, batch: 40, learningRate: 0.5 };
    const a = await learnAdaptation(plain, assigner, opts);
    const b = await learnAdaptation(marked, assigner, opts);
    expect(b.marked).toBe(2);
    const cos = (m: typeof a, p: number, q: number): number => {
      const x = applyAdaptation(m, plain.x.slice(p * VIEWS * D, p * VIEWS * D + D));
      const y = applyAdaptation(m, plain.x.slice(q * VIEWS * D, q * VIEWS * D + D));
      return x.reduce((s, v, i) => s + v * y[i]!, 0);
    };
    expect(cos(b, 0, 1)).toBeGreaterThan(cos(a, 0, 1) + 0.1);
    expect(cos(b, 2, 3)).toBeGreaterThan(cos(a, 2, 3) + 0.1);
  });

  it('applies to many rows at once exactly as to one', async () => {
    const w = world(4);
    const set = trainingSet(w);
    const a = await learnAdaptation(set, assigner, { steps: 20, batch: 40 });
    const rows = await applyAdaptationRows(a, set.x, PICTURES * VIEWS, assigner);
    for (const i of [0, 17, PICTURES * VIEWS - 1]) {
      const one = applyAdaptation(a, set.x.slice(i * D, (i + 1) * D));
      expect(Array.from(rows.slice(i * D, (i + 1) * D))).toEqual(Array.from(one).map((x) => expect.closeTo(x, 5)));
    }
  });
});
