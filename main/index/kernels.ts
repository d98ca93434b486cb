/**
 * Numeric kernels on flat Float32Array rows. Pure and allocation-free: the index's hot loops
 * (coarse probing, ADC scans, re-ranking) call these per query.
 */

/** Inner product of a[ao..ao+d) and b[bo..bo+d). Four accumulators let V8 pipeline the adds. */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    s0 += a[ao + i]! * b[bo + i]!;
    s1 += a[ao + i + 1]! * b[bo + i + 1]!;
    s2 += a[ao + i + 2]! * b[bo + i + 2]!;
    s3 += a[ao + i + 3]! * b[bo + i + 3]!;
  }
  for (; i < d; i++) s0 += a[ao + i]! * b[bo + i]!;
  return s0 + s1 + s2 + s3;
}

/** Squared Euclidean distance of two rows. */
export function l2sq(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  for (; i + 2 <= d; i += 2) {
    const x = a[ao + i]! - b[bo + i]!;
    const y = a[ao + i + 1]! - b[bo + i + 1]!;
    s0 += x * x;
    s1 += y * y;
  }
  for (; i < d; i++) {
    const x = a[ao + i]! - b[bo + i]!;
    s0 += x * x;
  }
  return s0 + s1;
}

/** Squared norms of n rows of width d. */
export function rowNormsSq(x: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dot(x, i * d, x, i * d, d);
  return out;
}

/** Scales each row to unit length in place; zero rows stay zero. */
export function normalizeRows(x: Float32Array, d: number): Float32Array {
  const n = x.length / d;
  for (let i = 0; i < n; i++) {
    const s = Math.sqrt(dot(x, i * d, x, i * d, d));
    if (s > 0) for (let j = 0; j < d; j++) x[i * d + j]! /= s;
  }
  return x;
}

/** C = A (n×k) · B (k×m), row-major. Reference implementation; big products go to onnxruntime. */
export function matmul(a: Float32Array, b: Float32Array, n: number, k: number, m: number): Float32Array {
  const c = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p]!;
      if (av === 0) continue;
      const bo = p * m;
      const co = i * m;
      for (let j = 0; j < m; j++) c[co + j]! += av * b[bo + j]!;
    }
  }
  return c;
}

export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

// IEEE 754 half precision. Node 20 has no Float16Array, so conversions go through a shared view.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

const HALF_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    let v: number;
    if (exp === 0) v = mant * 2 ** -24;
    else if (exp === 0x1f) v = mant === 0 ? Infinity : NaN;
    else v = (1 + mant / 1024) * 2 ** (exp - 15);
    t[h] = sign * v;
  }

  return t;
})();


export function fromHalf(h: number): number {
  return HALF_TABLE[h & 0xffff]!;
}

export function encodeHalf(src: Float32Array, dst: Uint16Array, dstOff = 0): void {
  for (let i = 0; i < src.length; i++) dst[dstOff + i] = toHalf(src[i]!);
}

/** Squared distance between a float query and a float16 row. */
export function l2sqHalf(q: Float32Array, h: Uint16Array, ho: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) {
    const x = q[i]! - HALF_TABLE[h[ho + i]!]!;
    s += x * x;
  }
  return s;
}
