/**
 * Segments hold index entries grouped by inverted list. A file segment is immutable: an `.ivf`
 * file (header, list offsets, then per list contiguous codes, entry terms, ids, items, regions, so
 * probing a list is one sequential read) and a `.vec` file of float16 vectors with a checksum per
 * record, read only for re-ranking candidates. The memory segment collects entries added since
 * the last flush.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { writeFileAtomicChunks } from '../util/atomic.js';
import { encodeHalf, fromHalf } from './kernels.js';

export const HEADER_BYTES = 64;
const FORMAT_VERSION = 1;
const IVF_MAGIC = 'LOUPEIVF';
const VEC_MAGIC = 'LOUPEVEC';

export class IndexCorruptError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`index file ${file} is damaged: ${reason}`);
    this.name = 'IndexCorruptError';
  }
}

export interface ListBlock {
  readonly count: number;
  readonly codes: Uint8Array;
  readonly terms: Float32Array;
  readonly ids: Uint32Array;
  readonly items: Uint32Array;
  readonly regions: Uint16Array;
  /** Segment position of entry i is start + i, or positions[i] when given. */
  readonly start: number;
  readonly positions: Int32Array | null;
}

export interface Segment {
  readonly count: number;
  readonly nlist: number;
  readonly m: number;
  /** Entries of list l; the views are valid until the next call. */
  list(l: number): ListBlock;
  /** Writes the vector at a segment position into out; false when its checksum fails. */
  vector(pos: number, out: Float32Array): boolean;
  /** Every entry, in position order, with its vector as float16. */
  readAll(): SegmentData;
  close(): void;
}

/** Per-entry columns: m code bytes, entry term, id, item, region, and d float16 halves each. */
export interface EntryData {
  readonly codes: Uint8Array;
  readonly terms: Float32Array;
  readonly ids: Uint32Array;
  readonly items: Uint32Array;
  readonly regions: Uint16Array;
  readonly halves: Uint16Array;
}

/** Columns of a segment in list order (positions 0..count-1). */
export interface SegmentData extends EntryData {
  readonly d: number;
  readonly nlist: number;
  readonly m: number;
  /** nlist + 1 entry offsets. */
  readonly offsets: Uint32Array;
}

/** Entries in any order, with the list each belongs to. */
export interface UnsortedEntries extends EntryData {
  readonly lists: Int32Array;
}

const align4 = (n: number): number => (n + 3) & ~3;

function blockBytes(count: number, m: number): number {
  return align4(count * m) + 12 * count + align4(2 * count);
}

/** Counting sort of entries by list into segment order. */
export function packSegment(e: UnsortedEntries, d: number, nlist: number, m: number): SegmentData {
  const n = e.ids.length;
  const offsets = new Uint32Array(nlist + 1);
  for (let i = 0; i < n; i++) offsets[e.lists[i]! + 1]!++;
  for (let l = 0; l < nlist; l++) offsets[l + 1]! += offsets[l]!;
  const fill = offsets.slice(0, nlist);
  const codes = new Uint8Array(n * m);
  const terms = new Float32Array(n);
  const ids = new Uint32Array(n);
  const items = new Uint32Array(n);
  const regions = new Uint16Array(n);
  const halves = new Uint16Array(n * d);
  for (let i = 0; i < n; i++) {
    const p = fill[e.lists[i]!]!++;
    codes.set(e.codes.subarray(i * m, i * m + m), p * m);
    terms[p] = e.terms[i]!;
    ids[p] = e.ids[i]!;
    items[p] = e.items[i]!;
    regions[p] = e.regions[i]!;
    halves.set(e.halves.subarray(i * d, i * d + d), p * d);
  }
  return { d, nlist, m, offsets, codes, terms, ids, items, regions, halves };
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function header(magic: string, fields: readonly number[]): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h.set(new TextEncoder().encode(magic), 0);
  const v = new DataView(h.buffer);
  fields.forEach((f, i) => v.setUint32(8 + 4 * i, f >>> 0, true));
  v.setUint32(60, crc32(h.subarray(0, 60)), true);
  return h;
}

function* ivfBlocks(s: SegmentData): Generator<Uint8Array> {
  for (let l = 0; l < s.nlist; l++) {
    const a = s.offsets[l]!;
    const b = s.offsets[l + 1]!;
    const c = b - a;
    const block = new Uint8Array(blockBytes(c, s.m));
    let off = 0;
    block.set(s.codes.subarray(a * s.m, b * s.m), off);
    off += align4(c * s.m);
    block.set(bytesOf(s.terms.subarray(a, b)), off);
    off += 4 * c;
    block.set(bytesOf(s.ids.subarray(a, b)), off);
    off += 4 * c;
    block.set(bytesOf(s.items.subarray(a, b)), off);
    off += 4 * c;
    block.set(bytesOf(s.regions.subarray(a, b)), off);
    yield block;
  }
}

const VEC_CHUNK = 4096;

function* vecRecords(s: SegmentData, count: number): Generator<Uint8Array> {
  const rec = 2 * s.d + 4;
  for (let start = 0; start < count; start += VEC_CHUNK) {
    const n = Math.min(VEC_CHUNK, count - start);
    const chunk = new Uint8Array(n * rec);
    const view = new DataView(chunk.buffer);
    for (let i = 0; i < n; i++) {
      const src = bytesOf(s.halves.subarray((start + i) * s.d, (start + i + 1) * s.d));
      chunk.set(src, i * rec);
      view.setUint32(i * rec + 2 * s.d, crc32(src), true);
    }
    yield chunk;
  }
}

/** Writes `<name>.ivf` and `<name>.vec` crash-safely (each new, fsynced, renamed). */
export async function writeSegment(dir: string, name: string, s: SegmentData): Promise<void> {
  const count = s.ids.length;
  let dataCrc = 0;
  for (const block of ivfBlocks(s)) dataCrc = crc32(block, dataCrc);
  const offsetsBytes = bytesOf(s.offsets);
  const h = header(IVF_MAGIC, [FORMAT_VERSION, s.d, s.nlist, s.m, count, 0, dataCrc, crc32(offsetsBytes)]);
  await writeFileAtomicChunks(join(dir, `${name}.ivf`), (function* () {
    yield h;
    yield offsetsBytes;
    yield* ivfBlocks(s);
  })());
  const vh = header(VEC_MAGIC, [FORMAT_VERSION, s.d, count]);
  await writeFileAtomicChunks(join(dir, `${name}.vec`), (function* () {
    yield vh;
    yield* vecRecords(s, count);
  })());
}

function readExactly(fd: number, buf: Uint8Array, pos: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

function checkHeader(file: string, h: Uint8Array, magic: string): DataView {
  const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
  if (new TextDecoder().decode(h.subarray(0, 8)) !== magic) throw new IndexCorruptError(file, 'wrong magic');
  if (v.getUint32(60, true) !== crc32(h.subarray(0, 60))) throw new IndexCorruptError(file, 'header checksum mismatch');
  if (v.getUint32(8, true) !== FORMAT_VERSION) throw new IndexCorruptError(file, `unsupported version ${v.getUint32(8, true)}`);
  return v;
}

export interface SegmentExpectation {
  readonly d: number;
  readonly nlist: number;
  readonly m: number;
  readonly count: number;
}

export class FileSegment implements Segment {
  readonly count: number;
  readonly nlist: number;
  readonly m: number;
  private readonly d: number;
  private readonly offsets: Uint32Array;
  private readonly blockStart: Float64Array;
  private readonly buf: Uint8Array;
  private readonly rec: Uint8Array;
  private readonly recHalves: Uint16Array;

  private constructor(
    readonly name: string,
    private readonly ivfFd: number,
    private readonly vecFd: number,
    e: SegmentExpectation,
    offsets: Uint32Array,
  ) {
    this.count = e.count;
    this.nlist = e.nlist;
    this.m = e.m;
    this.d = e.d;
    this.offsets = offsets;
    this.blockStart = new Float64Array(e.nlist + 1);
    let pos = HEADER_BYTES + 4 * (e.nlist + 1);
    let largest = 0;
    for (let l = 0; l < e.nlist; l++) {
      this.blockStart[l] = pos;
      const bytes = blockBytes(offsets[l + 1]! - offsets[l]!, e.m);
      largest = Math.max(largest, bytes);
      pos += bytes;
    }
    this.blockStart[e.nlist] = pos;
    this.buf = new Uint8Array(Math.max(4, largest));
    this.rec = new Uint8Array(2 * e.d + 4);
    this.recHalves = new Uint16Array(this.rec.buffer, 0, e.d);
  }

  /**
   * Opens and verifies a segment: headers, sizes, offsets and the checksum of all list data
   * (streamed, so it stays fast); vector records are verified one by one as they are read.
   */
  static open(dir: string, name: string, e: SegmentExpectation): FileSegment {
    const ivfPath = `${name}.ivf`;
    const vecPath = `${name}.vec`;
    const ivfFd = openSync(join(dir, ivfPath), 'r');
    let vecFd = -1;
    try {
      vecFd = openSync(join(dir, vecPath), 'r');
      const h = new Uint8Array(HEADER_BYTES);
      if (readExactly(ivfFd, h, 0) !== HEADER_BYTES) throw new IndexCorruptError(ivfPath, 'truncated header');
      const v = checkHeader(ivfPath, h, IVF_MAGIC);
      const got = [v.getUint32(12, true), v.getUint32(16, true), v.getUint32(20, true), v.getUint32(24, true)];
      const want = [e.d, e.nlist, e.m, e.count];
      if (got.some((g, i) => g !== want[i])) throw new IndexCorruptError(ivfPath, `shape ${got.join('/')} differs from the manifest's ${want.join('/')}`);
      const offsetsBytes = new Uint8Array(4 * (e.nlist + 1));
      if (readExactly(ivfFd, offsetsBytes, HEADER_BYTES) !== offsetsBytes.length) throw new IndexCorruptError(ivfPath, 'truncated offsets');
      if (crc32(offsetsBytes) !== v.getUint32(36, true)) throw new IndexCorruptError(ivfPath, 'offsets checksum mismatch');
      const offsets = new Uint32Array(offsetsBytes.buffer);
      for (let l = 0; l < e.nlist; l++) if (offsets[l]! > offsets[l + 1]!) throw new IndexCorruptError(ivfPath, 'offsets out of order');
      if (offsets[0] !== 0 || offsets[e.nlist] !== e.count) throw new IndexCorruptError(ivfPath, 'offsets do not cover the entries');
      const seg = new FileSegment(name, ivfFd, vecFd, e, offsets);
      const end = seg.blockStart[e.nlist]!;
      if (fstatSync(ivfFd).size !== end) throw new IndexCorruptError(ivfPath, `size ${fstatSync(ivfFd).size}, expected ${end}`);
      let crc = 0;
      const chunk = new Uint8Array(4 << 20);
      for (let pos = HEADER_BYTES + offsetsBytes.length; pos < end; ) {
        const n = readSync(ivfFd, chunk, 0, Math.min(chunk.length, end - pos), pos);
        if (n === 0) throw new IndexCorruptError(ivfPath, 'truncated list data');
        crc = crc32(chunk.subarray(0, n), crc);
        pos += n;
      }
      if (crc !== v.getUint32(32, true)) throw new IndexCorruptError(ivfPath, 'list data checksum mismatch');
      if (readExactly(vecFd, h, 0) !== HEADER_BYTES) throw new IndexCorruptError(vecPath, 'truncated header');
      const vv = checkHeader(vecPath, h, VEC_MAGIC);
      if (vv.getUint32(12, true) !== e.d || vv.getUint32(16, true) !== e.count) throw new IndexCorruptError(vecPath, 'shape differs from the manifest');
      const vecSize = HEADER_BYTES + e.count * (2 * e.d + 4);
      if (fstatSync(vecFd).size !== vecSize) throw new IndexCorruptError(vecPath, `size ${fstatSync(vecFd).size}, expected ${vecSize}`);
      return seg;
    } catch (err) {
      closeSync(ivfFd);
      if (vecFd >= 0) closeSync(vecFd);
      throw err;
    }
  }

  list(l: number): ListBlock {
    const start = this.offsets[l]!;
    const count = this.offsets[l + 1]! - start;
    const bytes = blockBytes(count, this.m);
    const buf = this.buf;
    if (bytes > 0) readExactly(this.ivfFd, buf.subarray(0, bytes), this.blockStart[l]!);
    const m = this.m;
    let off = align4(count * m);
    const terms = new Float32Array(buf.buffer, buf.byteOffset + off, count);
    off += 4 * count;
    const ids = new Uint32Array(buf.buffer, buf.byteOffset + off, count);
    off += 4 * count;
    const items = new Uint32Array(buf.buffer, buf.byteOffset + off, count);
    off += 4 * count;
    const regions = new Uint16Array(buf.buffer, buf.byteOffset + off, count);
    return { count, codes: buf.subarray(0, count * m), terms, ids, items, regions, start, positions: null };
  }

  vector(pos: number, out: Float32Array): boolean {
    if (!this.readRecord(pos, this.rec)) return false;
    for (let i = 0; i < this.d; i++) out[i] = fromHalf(this.recHalves[i]!);
    return true;
  }

  /** Reads the float16 record at pos (2d bytes + checksum) into `into`; false when it does not verify. */
  readRecord(pos: number, into: Uint8Array): boolean {
    const n = 2 * this.d + 4;
    if (readExactly(this.vecFd, into.subarray(0, n), HEADER_BYTES + pos * n) !== n) return false;
    const stored = into[2 * this.d]! | (into[2 * this.d + 1]! << 8) | (into[2 * this.d + 2]! << 16) | (into[2 * this.d + 3]! << 24);
    return crc32(into.subarray(0, 2 * this.d)) === stored >>> 0;
  }

  readAll(): SegmentData {
    const { nlist, m, d, count } = this;
    const codes = new Uint8Array(count * m);
    const terms = new Float32Array(count);
    const ids = new Uint32Array(count);
    const items = new Uint32Array(count);
    const regions = new Uint16Array(count);
    for (let l = 0; l < nlist; l++) {
      const b = this.list(l);
      codes.set(b.codes, b.start * m);
      terms.set(b.terms, b.start);
      ids.set(b.ids, b.start);
      items.set(b.items, b.start);
      regions.set(b.regions, b.start);
    }
    const halves = new Uint16Array(count * d);
    const rec = 2 * d + 4;
    const chunk = new Uint8Array(VEC_CHUNK * rec);
    for (let start = 0; start < count; start += VEC_CHUNK) {
      const n = Math.min(VEC_CHUNK, count - start);
      const got = readExactly(this.vecFd, chunk.subarray(0, n * rec), HEADER_BYTES + start * rec);
      if (got !== n * rec) throw new IndexCorruptError(`${this.name}.vec`, 'truncated vectors');
      const view = new DataView(chunk.buffer);
      for (let i = 0; i < n; i++) {
        const src = chunk.subarray(i * rec, i * rec + 2 * d);
        if (crc32(src) !== view.getUint32(i * rec + 2 * d, true)) throw new IndexCorruptError(`${this.name}.vec`, `vector record ${start + i} checksum mismatch`);
        halves.set(new Uint16Array(chunk.buffer.slice(i * rec, i * rec + 2 * d)), (start + i) * d);
      }
    }
    return { d, nlist, m, offsets: this.offsets.slice(), codes, terms, ids, items, regions, halves };
  }

  close(): void {
    closeSync(this.ivfFd);
    closeSync(this.vecFd);
  }
}

class Grow<T extends Uint8Array | Float32Array | Uint32Array | Uint16Array | Int32Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    const next = this.make(Math.max(this.length + extra, this.data.length * 2, 16));
    next.set(this.data.subarray(0, this.length) as never);
    this.data = next;
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

interface MemList {
  codes: Grow<Uint8Array>;
  terms: Grow<Float32Array>;
  ids: Grow<Uint32Array>;
  items: Grow<Uint32Array>;
  regions: Grow<Uint16Array>;
  positions: Grow<Int32Array>;
}

/** Entries added since the last flush, per list, with float32 vectors. */
export class MemSegment implements Segment {
  count = 0;
  private readonly lists: MemList[] = [];
  private vectors: Grow<Float32Array>;
  private listOf: Grow<Int32Array>;

  constructor(
    readonly nlist: number,
    readonly m: number,
    private readonly d: number,
  ) {
    for (let l = 0; l < nlist; l++) {
      this.lists.push({
        codes: new Grow(new Uint8Array(0), (n) => new Uint8Array(n)),
        terms: new Grow(new Float32Array(0), (n) => new Float32Array(n)),
        ids: new Grow(new Uint32Array(0), (n) => new Uint32Array(n)),
        items: new Grow(new Uint32Array(0), (n) => new Uint32Array(n)),
        regions: new Grow(new Uint16Array(0), (n) => new Uint16Array(n)),
        positions: new Grow(new Int32Array(0), (n) => new Int32Array(n)),
      });
    }
    this.vectors = new Grow(new Float32Array(0), (n) => new Float32Array(n));
    this.listOf = new Grow(new Int32Array(0), (n) => new Int32Array(n));
  }

  push(list: number, code: Uint8Array, term: number, id: number, item: number, region: number, vector: Float32Array): void {
    const L = this.lists[list]!;
    const pos = this.count++;
    L.codes.reserve(this.m);
    L.codes.data.set(code, L.codes.length);
    L.codes.length += this.m;
    for (const [g, v] of [[L.terms, term], [L.ids, id], [L.items, item], [L.regions, region], [L.positions, pos]] as const) {
      g.reserve(1);
      g.data[g.length++] = v;
    }
    this.vectors.reserve(this.d);
    this.vectors.data.set(vector.subarray(0, this.d), pos * this.d);
    this.vectors.length += this.d;
    this.listOf.reserve(1);
    this.listOf.data[this.listOf.length++] = list;
  }

  list(l: number): ListBlock {
    const L = this.lists[l]!;
    return {
      count: L.ids.length,
      codes: L.codes.view(),
      terms: L.terms.view(),
      ids: L.ids.view(),
      items: L.items.view(),
      regions: L.regions.view(),
      start: 0,
      positions: L.positions.view(),
    };
  }

  vector(pos: number, out: Float32Array): boolean {
    out.set(this.vectors.data.subarray(pos * this.d, pos * this.d + this.d));
    return true;
  }

  /** Raw float32 vector view (for re-encoding under a new quantizer). */
  floatVectors(): Float32Array {
    return this.vectors.view();
  }

  readAll(): SegmentData {
    const unsorted = this.unsorted();
    return packSegment(unsorted, this.d, this.nlist, this.m);
  }

  /** Entries in insertion order with their lists. */
  unsorted(): UnsortedEntries & { vectors: Float32Array } {
    const n = this.count;
    const { m, d } = this;
    const lists = this.listOf.view().slice();
    const codes = new Uint8Array(n * m);
    const terms = new Float32Array(n);
    const ids = new Uint32Array(n);
    const items = new Uint32Array(n);
    const regions = new Uint16Array(n);
    for (const L of this.lists) {
      const pos = L.positions.view();
      for (let i = 0; i < pos.length; i++) {
        const p = pos[i]!;
        codes.set(L.codes.data.subarray(i * m, i * m + m), p * m);
        terms[p] = L.terms.data[i]!;
        ids[p] = L.ids.data[i]!;
        items[p] = L.items.data[i]!;
        regions[p] = L.regions.data[i]!;
      }
    }
    const vectors = this.vectors.view();
    const halves = new Uint16Array(n * d);
    encodeHalf(vectors, halves);
    return { lists, codes, terms, ids, items, regions, halves, vectors };
  }

  close(): void {}
}
