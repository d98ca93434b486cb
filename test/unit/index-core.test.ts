/**
 * The pure core of the vector index: numeric kernels, float16, top-k, k-means, PQ/ADC, OPQ,
 * the nlist and retrain rules, and the onnxruntime-backed assigner against the JS reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsAssigner, OrtAssigner, nearestJs, pqEncodeJs, type Assigner } from '../../main/index/assign.js';
import { chooseNlist, FLAT_LIMIT, retrainReason, type IndexStats } from '../../main/index/ivf.js';
import { dot, fromHalf, l2sq, matmul, normalizeRows, toHalf, transpose } from '../../main/index/kernels.js';
import { kmeans, kmeansPlusPlus, updateCentroids } from '../../main/index/kmeans.js';
import { orthogonalityError, polarFactor, trainOpq } from '../../main/index/opq.js';
import { adc, chooseM, decode, distanceTable, distortion, entryTerm, innerTable, KSUB, trainPq } from '../../main/index/pq.js';
import { gaussian, rng, sampleIndices } from '../../main/index/random.js';
import { TopK } from '../../main/index/topk.js';
import { IdBits } from '../../main/index/id-bits.js';

function randomMatrix(n: number, d: number, seed: number): Float32Array {
  const r = rng(seed);
  return new Float32Array(n * d).map(() => gaussian(r));
}

/** n points around k well-separated centres; returns points, labels and centres. */
function blobs(k: number, per: number, d: number, spread: number, seed: number): { x: Float32Array; centres: Float32Array; labels: Int32Array } {
  const r = rng(seed);
  const centres = new Float32Array(k * d).map(() => gaussian(r) * 10);
  const x = new Float32Array(k * per * d);
  const labels = new Int32Array(k * per);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < per; i++) {
      const row = c * per + i;
      labels[row] = c;
      for (let j = 0; j < d; j++) x[row * d + j] = centres[c * d + j]! + spread * gaussian(r);
    }
  }
  return { x, centres, labels };
}

let ort: Assigner;
const js = new JsAssigner();
beforeAll(async () => {
  const a = await OrtAssigner.create(1);
  if (!a) throw new Error('onnxruntime-node did not load');
  ort = a;
});
afterAll(async () => ort.close());

describe('float16', () => {
  it('round-trips every finite half exactly', () => {
    let bad = 0;
    for (let h = 0; h < 65536; h++) {
      const v = fromHalf(h);
      if (Number.isNaN(v)) continue;
      if (toHalf(v) !== h) bad++;
    }
    expect(bad).toBe(0);
  });

  it('rounds to nearest even, saturates to infinity and flushes tiny values', () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(1 / 3)).toBe(0x3555);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(65520)).toBe(0x7c00); // halfway to the next binade rounds up to +inf
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(2 ** -24)).toBe(0x0001);
    expect(toHalf(2 ** -26)).toBe(0x0000);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
  });

  it('keeps unit-vector components within 2^-11 relative error', () => {
    const x = normalizeRows(randomMatrix(1, 512, 3), 512);
    for (const v of x) expect(Math.abs(fromHalf(toHalf(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25);
  });
});

describe('kernels', () => {
  it('dot, l2sq, matmul and transpose agree with the definitions', () => {
    const a = randomMatrix(3, 7, 1);
    const b = randomMatrix(7, 5, 2);
    let naiveDot = 0;
    let naiveL2 = 0;
    for (let i = 0; i < 7; i++) {
      naiveDot += a[i]! * a[7 + i]!;
      naiveL2 += (a[i]! - a[7 + i]!) ** 2;
    }
    expect(dot(a, 0, a, 7, 7)).toBeCloseTo(naiveDot, 4);
    expect(l2sq(a, 0, a, 7, 7)).toBeCloseTo(naiveL2, 4);
    const c = matmul(a, b, 3, 7, 5);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 5; j++) {
        let s = 0;
        for (let p = 0; p < 7; p++) s += a[i * 7 + p]! * b[p * 5 + j]!;
        expect(c[i * 5 + j]).toBeCloseTo(s, 4);
      }
    }
    const t = transpose(b, 7, 5);
    expect(t[3 * 7 + 2]).toBe(b[2 * 5 + 3]);
  });
});

describe('TopK', () => {
  it('keeps exactly the k smallest of a random stream', () => {
    const r = rng(9);
    for (const k of [1, 5, 64]) {
      const values = Array.from({ length: 1000 }, () => r());
      const heap = new TopK(k);
      values.forEach((v, i) => heap.push(v, i));
      const want = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v).slice(0, k).map((e) => e.i);
      expect(heap.sorted().map((e) => e.id)).toEqual(want);
    }
  });
});

describe('IdBits', () => {
  it('adds, counts, deletes, grows and lists ids in order', () => {
    const b = new IdBits();
    expect(b.add(5)).toBe(true);
    expect(b.add(5)).toBe(false);
    expect(b.add(1_000_003)).toBe(true);
    expect(b.add(0)).toBe(true);
    expect(b.count).toBe(3);
    expect(b.has(1_000_003)).toBe(true);
    expect(b.has(4)).toBe(false);
    expect(b.has(9_999_999)).toBe(false);
    b.delete(5);
    b.delete(6);
    expect(b.count).toBe(2);
    expect([...b.ids()]).toEqual([0, 1_000_003]);
    b.clear();
    expect(b.count).toBe(0);
    expect([...b.ids()]).toEqual([]);
  });
});

describe('sampling', () => {
  it('draws distinct indices deterministically from a seed', () => {
    const a = sampleIndices(1000, 100, rng(4));
    expect(new Set(a).size).toBe(100);
    expect(Array.from(a)).toEqual(Array.from(sampleIndices(1000, 100, rng(4))));
    expect(Math.max(...a)).toBeLessThan(1000);
  });
});

describe('assigners', () => {
  it('onnxruntime GEMM assignment equals the JS reference', async () => {
    const x = randomMatrix(3000, 24, 5);
    const c = randomMatrix(70, 24, 6);
    const a = await ort.nearest(x, 3000, c, 70, 24);
    const b = nearestJs(x, 3000, c, 70, 24);
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    for (let i = 0; i < 3000; i += 97) expect(a.dist[i]).toBeCloseTo(b.dist[i]!, 2);
  });

  it('onnxruntime PQ encoding equals the JS reference', async () => {
    const x = randomMatrix(2000, 32, 7);
    const cb = randomMatrix(8 * KSUB, 4, 8);
    expect(Array.from(await ort.pqEncode(x, 2000, cb, 8, KSUB, 4))).toEqual(Array.from(pqEncodeJs(x, 2000, cb, 8, KSUB, 4)));
  });

  it('onnxruntime matmul equals the JS product', async () => {
    const a = randomMatrix(40, 30, 9);
    const b = randomMatrix(30, 20, 10);
    const got = await ort.matmul(a, b, 40, 30, 20);
    const want = matmul(a, b, 40, 30, 20);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 3);
  });
});

describe('k-means', () => {
  it('recovers well-separated clusters with either initialisation and never increases its objective', async () => {
    const { x, centres } = blobs(12, 80, 8, 0.5, 11);
    for (const init of ['kmeans++', 'sample'] as const) {
      const res = await kmeans(x, 960, 8, 12, js, { init, seed: 3, iterations: 25 });
      for (let i = 1; i < res.objective.length; i++) expect(res.objective[i]!).toBeLessThanOrEqual(res.objective[i - 1]! * (1 + 1e-6));
      if (init === 'kmeans++') {
        // Each true centre has a learned centroid close to it.
        for (let c = 0; c < 12; c++) {
          let best = Infinity;
          for (let j = 0; j < 12; j++) best = Math.min(best, l2sq(centres, c * 8, res.centroids, j * 8, 8));
          expect(best).toBeLessThan(0.5);
        }
      }
    }
  });

  it('gives ORT and JS assigners the same result', async () => {
    const { x } = blobs(6, 50, 8, 1, 12);
    const a = await kmeans(x, 300, 8, 6, js, { seed: 5 });
    const b = await kmeans(x, 300, 8, 6, ort, { seed: 5 });
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
  });

  it('repairs an empty cluster by splitting the largest', () => {
    const x = new Float32Array([0, 0, 0.1, 0, 10, 10, 10.1, 10]);
    const labels = new Int32Array([0, 0, 0, 0]);
    const prev = new Float32Array([0, 0, 5, 5]);
    const c = updateCentroids(x, 4, 2, 2, labels, prev, rng(1));
    expect(Array.from(c).every(Number.isFinite)).toBe(true);
    expect(l2sq(c, 0, c, 2, 2)).toBeGreaterThan(0);
  });

  it('k-means++ seeds from distinct points', () => {
    const { x } = blobs(5, 20, 4, 0.1, 13);
    const c = kmeansPlusPlus(x, 100, 4, 5, rng(2));
    const picked = new Set<string>();
    for (let j = 0; j < 5; j++) picked.add(Array.from(c.subarray(j * 4, j * 4 + 4)).join(','));
    expect(picked.size).toBe(5);
  });
});

describe('product quantization', () => {
  const d = 32;
  const shape = { m: 8, dsub: 4 };
  const x = randomMatrix(3000, d, 21);
  let codebooks: Float32Array;
  let codes: Uint8Array;
  beforeAll(async () => {
    codebooks = await trainPq(x, 3000, shape, ort, { iterations: 6 });
    codes = pqEncodeJs(x, 3000, codebooks, shape.m, KSUB, shape.dsub);
  });

  it('ADC distance equals the exact distance to the decoded vector', () => {
    const q = randomMatrix(1, d, 22);
    const table = distanceTable(q, codebooks, shape);
    const y = new Float32Array(d);
    for (let i = 0; i < 50; i++) {
      decode(codes, i * shape.m, codebooks, shape, y);
      expect(adc(table, codes, i * shape.m, shape.m)).toBeCloseTo(l2sq(q, 0, y, 0, d), 3);
    }
  });

  it('residual decomposition: ||q-c||² + term − 2<q,y> = ||q − c − y||²', () => {
    const q = randomMatrix(1, d, 23);
    const c = randomMatrix(1, d, 24);
    const inner = innerTable(q, codebooks, shape, new Float64Array(shape.m * KSUB));
    const y = new Float32Array(d);
    for (let i = 0; i < 50; i++) {
      decode(codes, i * shape.m, codebooks, shape, y);
      const term = entryTerm(c, 0, codes, i * shape.m, codebooks, shape);
      let qy = 0;
      for (let s = 0; s < shape.m; s++) qy += inner[s * KSUB + codes[i * shape.m + s]!]!;
      const cy = new Float32Array(d).map((_, t) => c[t]! + y[t]!);
      expect(l2sq(q, 0, c, 0, d) + term - 2 * qy).toBeCloseTo(l2sq(q, 0, cy, 0, d), 2);
    }
  });

  it('more sub-quantizers reconstruct better, and training beats random codebooks', async () => {
    const coarse = { m: 4, dsub: 8 };
    const cb4 = await trainPq(x, 3000, coarse, ort, { iterations: 6 });
    const d4 = distortion(x, 3000, pqEncodeJs(x, 3000, cb4, 4, KSUB, 8), cb4, coarse);
    const d8 = distortion(x, 3000, codes, codebooks, shape);
    expect(d8).toBeLessThan(d4);
    const random = randomMatrix(shape.m * KSUB, shape.dsub, 25);
    const dr = distortion(x, 3000, pqEncodeJs(x, 3000, random, shape.m, KSUB, shape.dsub), random, shape);
    expect(d8).toBeLessThan(dr * 0.8);
  });

  it('chooses 8 dimensions per byte where the dimension allows', () => {
    expect(chooseM(512)).toBe(64);
    expect(chooseM(768)).toBe(96);
    expect(chooseM(100)).toBe(25);
    expect(chooseM(7)).toBe(7);
  });
});

describe('OPQ', () => {
  it('finds the orthogonal polar factor of a matrix', async () => {
    const d = 16;
    // R: an orthogonal matrix from Gram–Schmidt; S: symmetric positive definite; A = R·S.
    const g = randomMatrix(d, d, 31);
    const r = new Float32Array(d * d);
    for (let i = 0; i < d; i++) {
      const v = Array.from(g.subarray(i * d, i * d + d));
      for (let j = 0; j < i; j++) {
        let p = 0;
        for (let t = 0; t < d; t++) p += v[t]! * r[j * d + t]!;
        for (let t = 0; t < d; t++) v[t]! -= p * r[j * d + t]!;
      }
      const n = Math.hypot(...v);
      for (let t = 0; t < d; t++) r[i * d + t] = v[t]! / n;
    }
    const b = randomMatrix(d, d, 32);
    const s = matmul(transpose(b, d, d), b, d, d, d);
    for (let i = 0; i < d; i++) s[i * d + i]! += d;
    const polar = await polarFactor(matmul(r, s, d, d, d), d, ort);
    expect(polar).not.toBeNull();
    expect(orthogonalityError(polar!, d)).toBeLessThan(1e-3);
    for (let i = 0; i < d * d; i++) expect(polar![i]).toBeCloseTo(r[i]!, 2);
  });

  it('lowers PQ distortion on correlated data', async () => {
    // Variance concentrated in a few directions mixed across all dimensions: plain PQ splits it badly.
    const d = 32;
    const n = 4000;
    const z = randomMatrix(n, d, 41);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) z[i * d + j]! *= j < 4 ? 8 : 0.3;
    const mix = randomMatrix(d, d, 42);
    const x = matmul(z, mix, n, d, d);
    const res = await trainOpq(x, n, { m: 8, dsub: 4 }, ort, { iterations: 4 });
    expect(orthogonalityError(res.rotation, d)).toBeLessThan(1e-3);
    expect(res.distortion).toBeLessThan(res.baseline * 0.9);
  });
});

describe('nlist and retrain rules', () => {
  it('scales nlist with √n, keeping enough points per list', () => {
    expect(chooseNlist(5000)).toBe(128);
    expect(chooseNlist(100_000)).toBe(512);
    expect(chooseNlist(1_000_000)).toBe(2048);
    expect(chooseNlist(100)).toBe(16);
    for (const n of [10_000, 50_000]) expect(n / chooseNlist(n)).toBeGreaterThanOrEqual(39);
  });

  const trained: IndexStats = { count: 100_000, trainedCount: 100_000, nlist: 512, addedSinceTrain: 0, recentDistortion: 0, trainDistortion: 0.1, flat: false };
  it.each([
    ['flat and small', { ...trained, flat: true, count: FLAT_LIMIT }, null],
    ['flat past the limit', { ...trained, flat: true, count: FLAT_LIMIT + 1 }, 'train'],
    ['steady', trained, null],
    ['grown 2×', { ...trained, count: 200_000 }, null],
    ['grown 4×', { ...trained, count: 400_000, addedSinceTrain: 300_000, recentDistortion: 0.1 }, 'grown'],
    ['drifted', { ...trained, count: 115_000, addedSinceTrain: 15_000, recentDistortion: 0.13 }, 'drift'],
    ['few drifted', { ...trained, count: 105_000, addedSinceTrain: 5_000, recentDistortion: 0.2 }, null],
    ['shrunk', { ...trained, count: 1000 }, 'shrunk'],
  ] as const)('%s → %s', (_name, stats, want) => {
    expect(retrainReason(stats)).toBe(want);
  });
});

describe('a moved flat limit (the evaluation forces IVF-PQ or exact search)', () => {
  const base: IndexStats = { count: 50, trainedCount: 0, nlist: 1, addedSinceTrain: 0, recentDistortion: 0, trainDistortion: 0, flat: true };
  it('trains at any size with 0, never with Infinity', () => {
    expect(retrainReason(base)).toBeNull();
    expect(retrainReason(base, 0)).toBe('train');
    expect(retrainReason({ ...base, count: 10 * FLAT_LIMIT }, Number.POSITIVE_INFINITY)).toBeNull();
    // A small trained index is not sent back to exact search while the limit is 0.
    expect(retrainReason({ ...base, flat: false, trainedCount: 50, nlist: 1 }, 0)).toBeNull();
  });
});
