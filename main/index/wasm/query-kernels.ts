/**
 * The per-query arithmetic of IVF-PQ search on WebAssembly SIMD (kernels.wat): probing the coarse
 * centroids, building the ADC table, scanning codes, and float16 re-ranking. One instance per
 * quantizer; its memory holds the centroids and codebooks (padded to SIMD width) plus scratch.
 */
import type { Quantizer } from '../ivf.js';
import { fromHalf } from '../kernels.js';
import { KSUB } from '../pq.js';
import { KERNELS_WASM_BASE64 } from './kernels.wasm.js';

interface Exports {
  readonly memory: WebAssembly.Memory;
  dots(q: number, rows: number, n: number, d: number, out: number): void;
  adc(table: number, codes: number, terms: number, n: number, m: number, base: number, out: number): void;
  l2half(q: number, h: number, n: number, d: number, stride: number, lut: number, out: number): void;
}

let compiled: WebAssembly.Module | null = null;
function module(): WebAssembly.Module {
  if (!compiled) compiled = new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  return compiled;
}

const pad8 = (n: number): number => (n + 7) & ~7;
const align16 = (n: number): number => (n + 15) & ~15;

/** Whether a quantizer's shape fits the SIMD kernels (else the index uses plain JS loops). */
export function simdCapable(q: Quantizer): boolean {
  return q.shape.m % 4 === 0 && q.d % 2 === 0;
}

export class QueryKernels {
  private readonly ex: Exports;
  private readonly d: number;
  private readonly d8: number;
  private readonly m: number;
  private readonly dsub: number;
  private readonly dsub8: number;
  private readonly nlist: number;
  private readonly lut: number;
  private readonly centroids: number;
  private readonly codebooks: number;
  private readonly q: number;
  private readonly qsub: number;
  private readonly table: number;
  private readonly dotsOut: number;
  /** Rotation transposed (row j = column j of R), or -1 without one; and the rotated query. */
  private readonly rotT: number;
  private readonly rotOut: number;
  private readonly dynamic: number;
  private codes = 0;
  private terms = 0;
  private adcOut = 0;
  private listCap = 0;
  private recs = 0;
  private l2Out = 0;
  private recCap = 0;
  private readonly recBytes: number;

  constructor(quantizer: Quantizer) {
    const { d, nlist, shape } = quantizer;
    this.d = d;
    this.d8 = pad8(d);
    this.m = shape.m;
    this.dsub = shape.dsub;
    this.dsub8 = pad8(shape.dsub);
    this.nlist = nlist;
    this.recBytes = 2 * d + 4;
    let off = 0;
    const take = (bytes: number): number => {
      const at = off;
      off = align16(off + bytes);
      return at;
    };
    this.lut = take(65536 * 4);
    this.centroids = take(nlist * this.d8 * 4);
    this.codebooks = take(this.m * KSUB * this.dsub8 * 4);
    this.q = take(this.d8 * 4);
    this.qsub = take(this.m * this.dsub8 * 4);
    this.table = take(this.m * KSUB * 4);
    this.dotsOut = take(Math.max(nlist, KSUB) * 4);
    this.rotT = quantizer.rotation ? take(d * this.d8 * 4) : -1;
    this.rotOut = take(this.d8 * 4);
    this.dynamic = off;
    this.ex = new WebAssembly.Instance(module(), {}).exports as unknown as Exports;
    this.grow(off);
    const f = this.f32();
    for (let h = 0; h < 65536; h++) f[this.lut / 4 + h] = fromHalf(h);
    for (let j = 0; j < nlist; j++) f.set(quantizer.centroids.subarray(j * d, j * d + d), this.centroids / 4 + j * this.d8);
    const rot = quantizer.rotation;
    if (rot) for (let j = 0; j < d; j++) for (let p = 0; p < d; p++) f[this.rotT / 4 + j * this.d8 + p] = rot[p * d + j]!;
    for (let r = 0; r < this.m * KSUB; r++) {
      f.set(quantizer.codebooks.subarray(r * this.dsub, (r + 1) * this.dsub), this.codebooks / 4 + r * this.dsub8);
    }
  }

  private grow(bytes: number): void {
    const have = this.ex.memory.buffer.byteLength;
    if (bytes > have) this.ex.memory.grow(Math.ceil((bytes - have) / 65536));
  }

  private f32(): Float32Array {
    return new Float32Array(this.ex.memory.buffer);
  }

  /** dots[j] = <query, centroid j> for every list. */
  centroidDots(query: ArrayLike<number>): Float32Array {
    const f = this.f32();
    const qo = this.q / 4;
    for (let i = 0; i < this.d; i++) f[qo + i] = query[i]!;
    this.ex.dots(this.q, this.centroids, this.nlist, this.d8, this.dotsOut);
    return f.subarray(this.dotsOut / 4, this.dotsOut / 4 + this.nlist);
  }

  /** The query (as last given to centroidDots) times the OPQ rotation; the query itself without one. */
  rotated(): Float32Array {
    const f = this.f32();
    if (this.rotT < 0) return f.subarray(this.q / 4, this.q / 4 + this.d);
    this.ex.dots(this.q, this.rotT, this.d, this.d8, this.rotOut);
    return this.f32().subarray(this.rotOut / 4, this.rotOut / 4 + this.d);
  }

  /** ADC table of −2·<q_s, c_sj> from the (rotated) query. */
  buildTable(rotated: ArrayLike<number>): void {
    const f = this.f32();
    const { m, dsub, dsub8 } = this;
    const base = this.qsub / 4;
    for (let s = 0; s < m; s++) for (let t = 0; t < dsub; t++) f[base + s * dsub8 + t] = -2 * rotated[s * dsub + t]!;
    for (let s = 0; s < m; s++) {
      this.ex.dots(this.qsub + s * dsub8 * 4, this.codebooks + s * KSUB * dsub8 * 4, KSUB, dsub8, this.table + s * KSUB * 4);
    }
  }

  private ensureList(count: number): void {
    if (count <= this.listCap) return;
    this.listCap = Math.max(count, this.listCap * 2, 1024);
    this.codes = this.dynamic;
    this.terms = align16(this.codes + this.listCap * this.m);
    this.adcOut = align16(this.terms + this.listCap * 4);
    this.recs = align16(this.adcOut + this.listCap * 4);
    this.l2Out = align16(this.recs + this.recCap * this.recBytes);
    this.grow(this.l2Out + this.recCap * 4);
  }

  /** Approximate distances base + term + Σ table for one list's entries. */
  scan(codes: Uint8Array, terms: Float32Array, count: number, base: number): Float32Array {
    this.ensureList(count);
    const buf = this.ex.memory.buffer;
    new Uint8Array(buf, this.codes, count * this.m).set(codes.subarray(0, count * this.m));
    new Float32Array(buf, this.terms, count).set(terms.subarray(0, count));
    this.ex.adc(this.table, this.codes, this.terms, count, this.m, base, this.adcOut);
    return new Float32Array(buf, this.adcOut, count);
  }

  /** Space for n float16 records (2d bytes + 4 checksum bytes each), to be filled by the caller. */
  records(n: number): Uint8Array {
    if (n > this.recCap) {
      this.recCap = Math.max(n, this.recCap * 2, 256);
      this.listCap = Math.max(this.listCap, 1);
      const keep = this.listCap;
      this.listCap = 0;
      this.ensureList(keep);
    }
    return new Uint8Array(this.ex.memory.buffer, this.recs, n * this.recBytes);
  }

  get recordBytes(): number {
    return this.recBytes;
  }

  /** Squared distances from the query (as last given to centroidDots) to the first n records. */
  rerank(n: number): Float32Array {
    this.ex.l2half(this.q, this.recs, n, this.d, this.recBytes, this.lut, this.l2Out);
    return new Float32Array(this.ex.memory.buffer, this.l2Out, n);
  }
}
