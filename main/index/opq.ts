/**
 * Optimized product quantization (Ge et al., non-parametric): learns an orthogonal rotation R so
 * that PQ of x·R loses less than PQ of x. Alternates PQ training on the rotated data with the
 * orthogonal Procrustes step R = polar(Xᵀ·Ŷ), the polar factor found by Newton–Schulz iteration
 * (matrix products only, which onnxruntime does fast).
 */
import type { Assigner } from './assign.js';
import { decode, distortion, trainPq, type PqShape } from './pq.js';
import { transpose } from './kernels.js';

export function identity(d: number): Float32Array {
  const r = new Float32Array(d * d);
  for (let i = 0; i < d; i++) r[i * d + i] = 1;
  return r;
}

/** max |RᵀR − I|: how far a matrix is from orthogonal. */
export function orthogonalityError(r: Float32Array, d: number): number {
  let worst = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let acc = 0;
      for (let t = 0; t < d; t++) acc += r[t * d + i]! * r[t * d + j]!;
      worst = Math.max(worst, Math.abs(acc - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

/** Largest singular value of a (d×d), by power iteration on aᵀa. */
function spectralNorm(a: Float32Array, d: number): number {
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let sigma = 0;
  for (let it = 0; it < 50; it++) {
    const av = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) av[i]! += a[i * d + j]! * v[j]!;
    const w = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[j]! += a[i * d + j]! * av[i]!;
    const norm = Math.hypot(...w);
    if (norm === 0) return 0;
    sigma = Math.sqrt(norm);
    v = w.map((x) => x / norm);
  }
  return sigma;
}

/**
 * The orthogonal polar factor U·Vᵀ of a (a = U·S·Vᵀ), by Newton–Schulz iteration
 * Z ← 1.5·Z − 0.5·Z·Zᵀ·Z, which needs σ(Z) in (0, √3): a is scaled by its spectral norm, and a
 * tiny multiple of the identity keeps a rank-deficient a from stalling. Null if it does not converge.
 */
export async function polarFactor(a: Float32Array, d: number, assigner: Assigner, maxIterations = 120): Promise<Float32Array | null> {
  const sigma = spectralNorm(a, d);
  if (!(sigma > 0)) return null;
  let z: Float32Array = a.map((v) => v / (1.01 * sigma));
  for (let i = 0; i < d; i++) z[i * d + i]! += 1e-4;
  for (let it = 0; it < maxIterations; it++) {
    const ztz = await assigner.matmul(transpose(z, d, d), z, d, d, d);
    let err = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) err = Math.max(err, Math.abs(ztz[i * d + j]! - (i === j ? 1 : 0)));
    if (err < 1e-5) break;
    for (let i = 0; i < d * d; i++) ztz[i] = -0.5 * ztz[i]!;
    for (let i = 0; i < d; i++) ztz[i * d + i]! += 1.5;
    z = await assigner.matmul(z, ztz, d, d, d);
  }
  return orthogonalityError(z, d) < 1e-3 ? z : null;
}

export interface OpqResult {
  readonly rotation: Float32Array;
  readonly codebooks: Float32Array;
  /** PQ distortion of the training rows with and without the rotation. */
  readonly distortion: number;
  readonly baseline: number;
}

export async function trainOpq(
  x: Float32Array,
  n: number,
  shape: PqShape,
  assigner: Assigner,
  options: { iterations?: number; seed?: number } = {},
): Promise<OpqResult> {
  const d = shape.m * shape.dsub;
  const baseCodebooks = await trainPq(x, n, shape, assigner, { iterations: 8, seed: options.seed });
  const baseline = distortion(x, n, await assigner.pqEncode(x, n, baseCodebooks, shape.m, 256, shape.dsub), baseCodebooks, shape);
  let rotation = identity(d);
  let codebooks = baseCodebooks;
  const xt = transpose(x, n, d);
  const y = new Float32Array(n * d);
  for (let it = 0; it < (options.iterations ?? 6); it++) {
    const xr = await assigner.matmul(x, rotation, n, d, d);
    codebooks = await trainPq(xr, n, shape, assigner, { iterations: 4, seed: (options.seed ?? 7) + it });
    const codes = await assigner.pqEncode(xr, n, codebooks, shape.m, 256, shape.dsub);
    for (let i = 0; i < n; i++) decode(codes, i * shape.m, codebooks, shape, y, i * d);
    const next = await polarFactor(await assigner.matmul(xt, y, d, n, d), d, assigner);
    if (!next) break;
    rotation = next;
  }
  const xr = await assigner.matmul(x, rotation, n, d, d);
  codebooks = await trainPq(xr, n, shape, assigner, { iterations: 8, seed: options.seed });
  const rotated = distortion(xr, n, await assigner.pqEncode(xr, n, codebooks, shape.m, 256, shape.dsub), codebooks, shape);
  return { rotation, codebooks, distortion: rotated, baseline };
}
