/** PCA-whitening: the eigen-solver on known matrices, and whitened data with identity covariance. */
import { describe, expect, it } from 'vitest';
import { JsAssigner } from '../../main/index/assign.js';
import { gaussian, rng } from '../../main/index/random.js';
import { applyWhitening, learnWhitening, symmetricEigen, whitenRows } from '../../main/embed/pca-whitening.js';

describe('whitening', () => {
  it('Jacobi finds the eigenpairs of a symmetric matrix', () => {
    // [[2,1],[1,2]] has eigenvalues 3 and 1 with vectors (1,1)/√2 and (1,−1)/√2.
    const { values, vectors } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
    expect(values[0]).toBeCloseTo(3, 10);
    expect(values[1]).toBeCloseTo(1, 10);
    expect(Math.abs(vectors[0]!)).toBeCloseTo(Math.SQRT1_2, 10);
    expect(vectors[0]! * vectors[2]!).toBeGreaterThan(0);
    // A random symmetric 6×6: A·v = λ·v for every pair.
    const r = rng(3);
    const a = new Float64Array(36);
    for (let i = 0; i < 6; i++) for (let j = i; j < 6; j++) a[i * 6 + j] = a[j * 6 + i] = gaussian(r);
    const e = symmetricEigen(a, 6);
    for (let c = 0; c < 6; c++) {
      for (let i = 0; i < 6; i++) {
        let av = 0;
        for (let j = 0; j < 6; j++) av += a[i * 6 + j]! * e.vectors[j * 6 + c]!;
        expect(av).toBeCloseTo(e.values[c]! * e.vectors[i * 6 + c]!, 8);
      }
    }
  });

  it('learned on correlated data, makes the kept components uncorrelated with unit variance', async () => {
    const d = 12;
    const n = 4000;
    const r = rng(5);
    const mix = Float32Array.from({ length: d * d }, () => gaussian(r));
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const z = Array.from({ length: d }, (_, j) => gaussian(r) * (j < 4 ? 5 : 0.5));
      for (let j = 0; j < d; j++) {
        let s = 3;
        for (let t = 0; t < d; t++) s += z[t]! * mix[t * d + j]!;
        x[i * d + j] = s;
      }
    }
    const w = await learnWhitening(x, n, d, 6, new JsAssigner());
    expect(w.outputDim).toBe(6);
    for (let i = 1; i < 6; i++) expect(w.eigenvalues[i]!).toBeLessThanOrEqual(w.eigenvalues[i - 1]!);
    // Projected (before the final L2 normalisation) data has identity covariance.
    const proj = new Float64Array(n * 6);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 6; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += w.projection[c * d + j]! * (x[i * d + j]! - w.mean[j]!);
        proj[i * 6 + c] = s;
      }
    }
    for (let a = 0; a < 6; a++) {
      for (let b = 0; b < 6; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += proj[i * 6 + a]! * proj[i * 6 + b]!;
        expect(s / (n - 1)).toBeCloseTo(a === b ? 1 : 0, 1);
      }
    }
    expect(Math.hypot(...applyWhitening(w, x.subarray(0, d)))).toBeCloseTo(1, 5);
  });

  it('shrunk: a = 1 only centres; a → 0 whitens in the descriptors\' own coordinates', async () => {
    const d = 12;
    const n = 4000;
    const r = rng(7);
    // Variances 25 and 0.25, turned by a Householder reflection (well conditioned, every direction real).
    const h = Array.from({ length: d }, () => gaussian(r));
    const hh = h.reduce((a, b) => a + b * b, 0);
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const z = Array.from({ length: d }, (_, j) => gaussian(r) * (j < 4 ? 5 : 0.5));
      const zh = z.reduce((a, b, j) => a + b * h[j]!, 0);
      for (let j = 0; j < d; j++) x[i * d + j] = 3 + z[j]! - (2 * zh * h[j]!) / hh;
    }
    const centring = await learnWhitening(x, n, d, d, new JsAssigner(), { shrinkage: 1 });
    expect(centring).toMatchObject({ inputDim: d, outputDim: d, shrinkage: 1 });
    const v = x.subarray(0, d);
    const c = Float32Array.from(v, (t, j) => t - centring.mean[j]!);
    const nc = Math.hypot(...c);
    applyWhitening(centring, v).forEach((t, j) => expect(t).toBeCloseTo(c[j]! / nc, 5));
    // Nearly unshrunk, with every direction kept: the output's covariance is a multiple of the identity.
    const full = await learnWhitening(x, n, d, d, new JsAssigner(), { shrinkage: 1e-4, iterations: 12 });
    expect(full.outputDim).toBe(d);
    const rows = full.projection.length / d;
    const y = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const ci = Array.from({ length: d }, (_, j) => x[i * d + j]! - full.mean[j]!);
      const out = [...ci];
      for (let k = 0; k < rows; k++) {
        let t = 0;
        for (let j = 0; j < d; j++) t += full.projection[k * d + j]! * ci[j]!;
        for (let j = 0; j < d; j++) out[j]! -= t * full.projection[k * d + j]!;
      }
      y.set(out, i * d);
    }
    const cov = (a: number, b: number): number => {
      let s = 0;
      for (let i = 0; i < n; i++) s += y[i * d + a]! * y[i * d + b]!;
      return s / (n - 1);
    };
    const unit = cov(0, 0);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) expect(cov(a, b) / unit).toBeCloseTo(a === b ? 1 : 0, 1);
  });

  it('whitens many rows at once as GEMMs exactly as one at a time, shrunk and truncated', async () => {
    const d = 16;
    const n = 300;
    const r = rng(9);
    const x = Float32Array.from({ length: n * d }, (_, i) => gaussian(r) * (i % d < 3 ? 4 : 1) + 2);
    const assigner = new JsAssigner();
    for (const shrinkage of [0.3, undefined]) {
      const w = await learnWhitening(x, n, d, 8, assigner, { shrinkage });
      const rows = await whitenRows(w, x, n, assigner);
      const od = w.outputDim;
      expect(rows.length).toBe(n * od);
      for (const i of [0, 41, n - 1]) {
        const one = applyWhitening(w, x.slice(i * d, (i + 1) * d));
        expect(Array.from(rows.slice(i * od, (i + 1) * od))).toEqual(Array.from(one).map((v) => expect.closeTo(v, 5)));
      }
    }
  });
});
