/** Random draws for training and sampling, from the seeded PRNG in main/util/random.ts. */
import { rng, type Rng } from '../util/random.js';

export { rng, type Rng };

/** Standard normal deviate (Box–Muller). */
export function gaussian(r: Rng): number {
  let u = 0;
  while (u === 0) u = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** k distinct indices from [0, n), in random order (partial Fisher–Yates on a sparse map). */
export function sampleIndices(n: number, k: number, r: Rng): Int32Array {
  const take = Math.min(n, k);
  const swapped = new Map<number, number>();
  const out = new Int32Array(take);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(r() * (n - i));
    const vi = swapped.get(i) ?? i;
    const vj = swapped.get(j) ?? j;
    out[i] = vj;
    swapped.set(j, vi);
  }
  return out;
}

/** Copies the given rows of x (width d) into a new packed array. */
export function gatherRows(x: Float32Array, d: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i]! * d, rows[i]! * d + d), i * d);
  return out;
}
