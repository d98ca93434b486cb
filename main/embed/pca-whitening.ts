/**
 * PCA-whitening learned from the user's own descriptors (unsupervised, as in Jégou & Chum): centre,
 * project on the top principal directions, divide by the square root of their variance, and
 * L2-normalise. The principal directions come from randomized subspace iteration (matrix products
 * only, which the assigner runs fast) and a Jacobi eigen-solve of the small projected matrix.
 */
import type { Assigner } from '../index/assign.js';
import { transpose } from '../index/kernels.js';
import { gaussian, rng } from '../index/random.js';
import { l2normalize } from '../encoders/pooling.js';

export interface Whitening {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly mean: Float32Array;
  /** outputDim × inputDim: rows are principal directions scaled by 1/√(λ + ε). */
  readonly projection: Float32Array;
  /** Eigenvalues of the kept directions, descending. */
  readonly eigenvalues: Float64Array;
}

/** Eigen-decomposition of a small symmetric matrix (k × k) by cyclic Jacobi rotations. */
export function symmetricEigen(a: Float64Array, k: number, sweeps = 30): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += m[p * k + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = m[p * k + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * k + q]! - m[p * k + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = m[r * k + p]!;
          const arq = m[r * k + q]!;
          m[r * k + p] = c * arp - s * arq;
          m[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = m[p * k + r]!;
          const aqr = m[q * k + r]!;
          m[p * k + r] = c * apr - s * aqr;
          m[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p]!;
          const vrq = v[r * k + q]!;
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const order = Array.from({ length: k }, (_, i) => i).sort((x, y) => m[y * k + y]! - m[x * k + x]!);
  const values = Float64Array.from(order, (i) => m[i * k + i]!);
  const vectors = new Float64Array(k * k);
  order.forEach((src, dst) => {
    for (let r = 0; r < k; r++) vectors[r * k + dst] = v[r * k + src]!;
  });
  return { values, vectors };
}

/** Orthonormalises the k columns of a (d × k, row-major) in place by modified Gram–Schmidt. */
function orthonormalizeColumns(a: Float64Array, d: number, k: number): void {
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < j; i++) {
      let dotp = 0;
      for (let r = 0; r < d; r++) dotp += a[r * k + i]! * a[r * k + j]!;
      for (let r = 0; r < d; r++) a[r * k + j]! -= dotp * a[r * k + i]!;
    }
    let norm = 0;
    for (let r = 0; r < d; r++) norm += a[r * k + j]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < d; r++) a[r * k + j]! /= norm;
  }
}

export async function learnWhitening(
  x: Float32Array,
  n: number,
  d: number,
  outputDim: number,
  assigner: Assigner,
  options: { seed?: number; iterations?: number; epsilon?: number } = {},
): Promise<Whitening> {
  const k = Math.min(outputDim, d, n);
  const mean = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]! / n;
  const centred = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) centred[i * d + j] = x[i * d + j]! - mean[j]!;
  const cov = await assigner.matmul(transpose(centred, n, d), centred, d, n, d);
  for (let i = 0; i < d * d; i++) cov[i]! /= Math.max(1, n - 1);
  // Subspace iteration on the covariance, with a few extra columns for accuracy.
  const cols = Math.min(d, k + 8);
  const r = rng(options.seed ?? 11);
  let q = Float64Array.from({ length: d * cols }, () => gaussian(r));
  orthonormalizeColumns(q, d, cols);
  for (let it = 0; it < (options.iterations ?? 6); it++) {
    q = Float64Array.from(await assigner.matmul(cov, Float32Array.from(q), d, d, cols));
    orthonormalizeColumns(q, d, cols);
  }
  const q32 = Float32Array.from(q);
  const cq = await assigner.matmul(cov, q32, d, d, cols);
  const small = Float64Array.from(await assigner.matmul(transpose(q32, d, cols), cq, cols, d, cols));
  for (let i = 0; i < cols; i++)
    for (let j = i + 1; j < cols; j++) small[i * cols + j] = small[j * cols + i] = (small[i * cols + j]! + small[j * cols + i]!) / 2;
  const eig = symmetricEigen(small, cols);
  const eps = options.epsilon ?? 1e-6 * Math.max(eig.values[0]!, 1e-12);
  const projection = new Float32Array(k * d);
  for (let c = 0; c < k; c++) {
    const scale = 1 / Math.sqrt(Math.max(eig.values[c]!, 0) + eps);
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let t = 0; t < cols; t++) s += q[j * cols + t]! * eig.vectors[t * cols + c]!;
      projection[c * d + j] = s * scale;
    }
  }
  return { inputDim: d, outputDim: k, mean, projection, eigenvalues: eig.values.slice(0, k) };
}

/** Whitened, L2-normalised descriptor. */
export function applyWhitening(w: Whitening, v: Float32Array): Float32Array {
  const out = new Float32Array(w.outputDim);
  for (let c = 0; c < w.outputDim; c++) {
    let s = 0;
    for (let j = 0; j < w.inputDim; j++) s += w.projection[c * w.inputDim + j]! * (v[j]! - w.mean[j]!);
    out[c] = s;
  }
  return l2normalize(out);
}
