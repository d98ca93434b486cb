/**
 * The small index files: the quantizer (centroids, codebooks, rotation), tombstones, and the
 * manifest that names the current generation's files. Each is written new, fsynced and renamed;
 * each carries a checksum that is verified when it is read.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { writeFileAtomic } from '../util/atomic.js';
import { finishQuantizer, type Quantizer } from './ivf.js';
import { IndexCorruptError } from './segment.js';

const QNT_MAGIC = 'LOUPEQNT';
const TMB_MAGIC = 'LOUPETMB';
const VERSION = 1;

export interface SegmentRef {
  readonly name: string;
  readonly count: number;
}

export interface Manifest {
  readonly format: 1;
  readonly generation: number;
  readonly dim: number;
  /** Null while the index is flat (exact search). */
  readonly quantizer: string | null;
  readonly nlist: number;
  readonly m: number;
  readonly segments: readonly SegmentRef[];
  readonly tombstones: string | null;
  /** Highest source vector id and deletion sequence number reflected in these files. */
  readonly appliedId: number;
  readonly appliedDeletionSeq: number;
  readonly addedSinceTrain: number;
  readonly recentErrorSum: number;
}

export const MANIFEST = 'manifest.json';

export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  const body = JSON.stringify(m);
  const doc = JSON.stringify({ manifest: m, checksum: crc32(body) }, null, 1);
  await writeFileAtomic(join(dir, MANIFEST), new TextEncoder().encode(doc));
}

/** The manifest, null when there is none, IndexCorruptError when it does not verify. */
export async function readManifest(dir: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let doc: { manifest?: Manifest; checksum?: number };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw new IndexCorruptError(MANIFEST, 'not valid JSON');
  }
  if (!doc.manifest || crc32(JSON.stringify(doc.manifest)) !== doc.checksum) throw new IndexCorruptError(MANIFEST, 'checksum mismatch');
  if (doc.manifest.format !== 1) throw new IndexCorruptError(MANIFEST, `unsupported format ${String(doc.manifest.format)}`);
  return doc.manifest;
}

/** Header: magic (8), version (4), payload CRC (4), up to 13 float64 fields, header CRC at 124. */
const FRAME_HEADER = 128;
const MAX_FIELDS = 13;

function framed(magic: string, fields: readonly number[], payload: readonly ArrayBufferView[]): Uint8Array {
  if (fields.length > MAX_FIELDS) throw new RangeError('too many header fields');
  const size = FRAME_HEADER + payload.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode(magic), 0);
  let off = FRAME_HEADER;
  for (const p of payload) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off);
    off += p.byteLength;
  }
  const v = new DataView(out.buffer);
  v.setUint32(8, VERSION, true);
  fields.forEach((f, i) => v.setFloat64(16 + 8 * i, f, true));
  v.setUint32(12, crc32(out.subarray(FRAME_HEADER)), true);
  v.setUint32(FRAME_HEADER - 4, crc32(out.subarray(0, FRAME_HEADER - 4)), true);
  return out;
}

function unframe(file: string, buf: Uint8Array, magic: string, nfields: number): { fields: number[]; payload: Uint8Array } {
  if (buf.length < FRAME_HEADER) throw new IndexCorruptError(file, 'truncated header');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (new TextDecoder().decode(buf.subarray(0, 8)) !== magic) throw new IndexCorruptError(file, 'wrong magic');
  if (v.getUint32(FRAME_HEADER - 4, true) !== crc32(buf.subarray(0, FRAME_HEADER - 4))) throw new IndexCorruptError(file, 'header checksum mismatch');
  if (v.getUint32(8, true) !== VERSION) throw new IndexCorruptError(file, 'unsupported version');
  const payload = buf.subarray(FRAME_HEADER);
  if (v.getUint32(12, true) !== crc32(payload)) throw new IndexCorruptError(file, 'payload checksum mismatch');
  const fields: number[] = [];
  for (let i = 0; i < nfields; i++) fields.push(v.getFloat64(16 + 8 * i, true));
  return { fields, payload };
}

/** Copies bytes into a fresh, aligned typed array. */
function take<T>(payload: Uint8Array, off: number, count: number, bytesPer: number, make: (b: ArrayBuffer) => T): T {
  return make(payload.slice(off, off + count * bytesPer).buffer);
}

export async function writeQuantizer(dir: string, name: string, q: Quantizer): Promise<void> {
  const parts: ArrayBufferView[] = [q.centroids, q.codebooks];
  if (q.rotation) parts.push(q.rotation, q.rotatedCentroids);
  const data = framed(QNT_MAGIC, [q.d, q.nlist, q.shape.m, q.shape.dsub, q.rotation ? 1 : 0, q.trainedCount, q.distortion], parts);
  await writeFileAtomic(join(dir, `${name}.bin`), data);
}

export async function readQuantizer(dir: string, name: string): Promise<Quantizer> {
  const file = `${name}.bin`;
  const buf = new Uint8Array(await readFile(join(dir, file)));
  const { fields, payload } = unframe(file, buf, QNT_MAGIC, 7);
  const [d, nlist, m, dsub, hasRotation, trainedCount, dist] = fields as [number, number, number, number, number, number, number];
  const expected = 4 * (nlist * d + m * 256 * dsub + (hasRotation ? d * d + nlist * d : 0));
  if (payload.length !== expected || m * dsub !== d) throw new IndexCorruptError(file, 'payload size does not match its shape');
  let off = 0;
  const centroids = take(payload, off, nlist * d, 4, (b) => new Float32Array(b));
  off += 4 * nlist * d;
  const codebooks = take(payload, off, m * 256 * dsub, 4, (b) => new Float32Array(b));
  off += 4 * m * 256 * dsub;
  let rotation: Float32Array | null = null;
  let rotated: Float32Array | null = null;
  if (hasRotation) {
    rotation = take(payload, off, d * d, 4, (b) => new Float32Array(b));
    off += 4 * d * d;
    rotated = take(payload, off, nlist * d, 4, (b) => new Float32Array(b));
  }
  return finishQuantizer(
    { d, nlist, shape: { m, dsub }, centroids, rotation, codebooks, trainedCount, distortion: dist },
    (c) => rotated ?? c,
  );
}

export async function writeTombstones(dir: string, name: string, ids: Iterable<number>): Promise<void> {
  const sorted = Uint32Array.from(ids).sort();
  await writeFileAtomic(join(dir, `${name}.bin`), framed(TMB_MAGIC, [sorted.length], [sorted]));
}

export async function readTombstones(dir: string, name: string): Promise<Uint32Array> {
  const file = `${name}.bin`;
  const { fields, payload } = unframe(file, new Uint8Array(await readFile(join(dir, file))), TMB_MAGIC, 1);
  if (payload.length !== 4 * fields[0]!) throw new IndexCorruptError(file, 'payload size does not match its count');
  return take(payload, 0, fields[0]!, 4, (b) => new Uint32Array(b));
}
