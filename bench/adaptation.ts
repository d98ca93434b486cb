/**
 * npm run bench:adaptation — what the projection adapted to the library costs (embed/adaptation.ts):
 * training time for the whitener's largest training set (2,000 pictures × 6 views) at the real
 * packs' descriptor sizes, both targets, and how fast a library is whitened and adapted again
 * (GEMMs) against the old one-vector-at-a-time whitening. Random unit descriptors: the cost does not
 * depend on the values. `--quick` for fewer steps.
 */
import { availableParallelism } from 'node:os';
import { applyAdaptationRows, learnAdaptation, type AdaptationTarget } from '../main/embed/adaptation.js';
import { learnWhitening, whitenOnly, whitenRows } from '../main/embed/pca-whitening.js';
import { defaultAssigner } from '../main/index/assign.js';
import { gaussian, rng } from '../main/index/random.js';

const quick = process.argv.includes('--quick');
const PICTURES = 2000;
const VIEWS = 6;

function unitRows(n: number, d: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (x[i * d + j] = Math.abs(gaussian(r))) ** 2;
    for (let j = 0; j < d; j++) x[i * d + j]! /= Math.sqrt(s);
  }
  return x;
}

const assigner = await defaultAssigner();
console.log(`Loupe bench:adaptation — ${availableParallelism()} cores, assigner ${assigner.name}`);
try {
  for (const d of [1280, 2048]) {
    const x = unitRows(PICTURES * VIEWS, d, d);
    const starts = Int32Array.from({ length: PICTURES + 1 }, (_, i) => i * VIEWS);
    const marked = Array.from({ length: 100 }, (_, i): [number, number] => [2 * i, 2 * i + 1]);
    for (const target of ['views', 'codes'] as AdaptationTarget[]) {
      const steps = quick ? 20 : 200;
      const t = performance.now();
      const a = await learnAdaptation({ d, x, starts, marked }, assigner, { target, steps });
      const s = (performance.now() - t) / 1000;
      console.log(`d ${d}, ${target}: ${steps} steps over ${PICTURES} pictures × ${VIEWS} views and ${marked.length} marked pairs in ${s.toFixed(1)} s`
        + ` (${(s * 1000 / steps).toFixed(0)} ms/step); matrix ${(a.matrix.byteLength / 2 ** 20).toFixed(1)} MiB`);
    }
    // Re-whitening a library: 2,000 vectors (about 100 pictures' global and regional descriptors).
    const n = 2000;
    const v = unitRows(n, d, d + 1);
    // As the whitener learns it: the top 512 directions damped (outputDim = d).
    const w = await learnWhitening(v, n, d, 512, assigner, { shrinkage: 0.5 });
    let t = performance.now();
    for (let i = 0; i < n; i++) whitenOnly(w, v.subarray(i * d, (i + 1) * d));
    const oneByOne = n / ((performance.now() - t) / 1000);
    t = performance.now();
    const white = await whitenRows(w, v, n, assigner);
    await applyAdaptationRows({ d, matrix: Float32Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0)) }, white, n, assigner);
    const batched = n / ((performance.now() - t) / 1000);
    console.log(`d ${d}: re-whitening ${Math.round(oneByOne).toLocaleString()} vectors/s one by one (whitening only);`
      + ` ${Math.round(batched).toLocaleString()} vectors/s as GEMMs, whitened and adapted`);
  }
} finally {
  await assigner.close();
}
