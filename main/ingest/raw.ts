/**
 * Camera RAW files, read through the JPEG preview every camera embeds (full size, or nearly, in
 * all current models). A small reader of the containers, written here rather than taken from
 * exiftool-vendored: that needs Perl on Linux and macOS and a process per file, for what is a walk
 * over TIFF IFDs (DNG, CR2, NEF, ARW, ORF, RW2, PEF, SRW), a fixed header (RAF) or ISO-BMFF boxes
 * (CR3). The RAW's own EXIF (date, camera, lens, GPS) is read by exifr from the TIFF structure.
 */

export class RawError extends Error {}

/** The embedded preview, the orientation the RAW records for it, and where its EXIF lives. */
export interface RawPreview {
  readonly jpeg: Buffer;
  readonly orientation: number;
  /** A TIFF structure holding the RAW's EXIF (the file itself, or a CR3's CMT1 box), or null: use the preview's. */
  readonly exif: Buffer | null;
  /** An EXIF IFD written as a TIFF of its own (a CR3's CMT2: the date, exposure and lens), or absent. */
  readonly exifIfd?: Buffer | null;
  readonly container: 'tiff' | 'raf' | 'cr3';
}

const TAG = {
  newSubfileType: 0x00fe, compression: 0x0103, stripOffsets: 0x0111, orientation: 0x0112, stripByteCounts: 0x0117,
  subIfds: 0x014a, jpegOffset: 0x0201, jpegLength: 0x0202, exifIfd: 0x8769, rw2JpgFromRaw: 0x002e,
} as const;

interface Entry { readonly tag: number; readonly type: number; readonly count: number; readonly valueAt: number }

class TiffReader {
  readonly le: boolean;

  constructor(readonly buf: Buffer, readonly base = 0) {
    const order = buf.toString('latin1', base, base + 2);
    if (order !== 'II' && order !== 'MM') throw new RawError('not a TIFF structure');
    this.le = order === 'II';
  }

  u16(at: number): number {
    return this.le ? this.buf.readUInt16LE(this.base + at) : this.buf.readUInt16BE(this.base + at);
  }

  u32(at: number): number {
    return this.le ? this.buf.readUInt32LE(this.base + at) : this.buf.readUInt32BE(this.base + at);
  }

  firstIfd(): number {
    return this.u32(4);
  }

  /** The entries of the IFD at `at` and the offset of the next one (0 at the end). */
  ifd(at: number): { entries: Entry[]; next: number } {
    if (at <= 0 || this.base + at + 2 > this.buf.length) return { entries: [], next: 0 };
    const n = this.u16(at);
    if (n > 1000 || this.base + at + 2 + n * 12 + 4 > this.buf.length) return { entries: [], next: 0 };
    const entries: Entry[] = [];
    for (let i = 0; i < n; i++) {
      const e = at + 2 + i * 12;
      const type = this.u16(e + 2);
      const count = this.u32(e + 4);
      const size = (TYPE_SIZES[type] ?? 1) * count;
      entries.push({ tag: this.u16(e), type, count, valueAt: size <= 4 ? e + 8 : this.u32(e + 8) });
    }
    return { entries, next: this.u32(at + 2 + n * 12) };
  }

  /** The first value of an entry as a number (SHORT or LONG). */
  value(e: Entry | undefined, index = 0): number | null {
    if (!e || index >= e.count) return null;
    if (e.type === 3) return this.u16(e.valueAt + index * 2);
    if (e.type === 4 || e.type === 13) return this.u32(e.valueAt + index * 4);
    return null;
  }
}

const TYPE_SIZES: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };

/** Whether bytes are a JPEG a decoder for ordinary photos reads (baseline or progressive, not lossless). */
function isPlainJpeg(b: Buffer): boolean {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return false;
  for (let i = 2; i + 4 <= b.length;) {
    if (b[i] !== 0xff) return false;
    const marker = b[i + 1]!;
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) return true;
    if (marker === 0xc3 || (marker >= 0xc5 && marker <= 0xcf && marker !== 0xc8 && marker !== 0xcc)) return false;
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { i += 2; continue; }
    i += 2 + b.readUInt16BE(i + 2);
  }
  return false;
}

function slice(buf: Buffer, offset: number | null, length: number | null, base = 0): Buffer | null {
  if (offset === null || length === null || length <= 0) return null;
  const start = base + offset;
  if (start < 0 || start + length > buf.length) return null;
  const b = buf.subarray(start, start + length);
  return isPlainJpeg(b) ? b : null;
}

/** Every embedded JPEG in a TIFF-based RAW: IFD chains, their SubIFDs, strips of JPEG IFDs, RW2's JpgFromRaw. */
function tiffPreviews(buf: Buffer, base = 0): { previews: Buffer[]; orientation: number } {
  const r = new TiffReader(buf, base);
  const previews: Buffer[] = [];
  let orientation = 1;
  const seen = new Set<number>();
  const visit = (at: number, depth: number): void => {
    for (let ifd = at; ifd > 0 && !seen.has(ifd) && depth < 4;) {
      seen.add(ifd);
      const { entries, next } = r.ifd(ifd);
      const get = (tag: number): Entry | undefined => entries.find((e) => e.tag === tag);
      if (ifd === r.firstIfd()) orientation = r.value(get(TAG.orientation)) ?? 1;
      const jpeg = slice(buf, r.value(get(TAG.jpegOffset)), r.value(get(TAG.jpegLength)), base);
      if (jpeg) previews.push(jpeg);
      const compression = r.value(get(TAG.compression));
      if (compression === 6 || compression === 7) {
        const strips = get(TAG.stripOffsets);
        if (strips?.count === 1) {
          const strip = slice(buf, r.value(strips), r.value(get(TAG.stripByteCounts)), base);
          if (strip) previews.push(strip);
        }
      }
      const rw2 = get(TAG.rw2JpgFromRaw);
      if (rw2 && rw2.type === 7) {
        const b = buf.subarray(base + rw2.valueAt, base + rw2.valueAt + rw2.count);
        if (isPlainJpeg(b)) previews.push(b);
      }
      const subs = get(TAG.subIfds);
      for (let i = 0; subs && i < Math.min(subs.count, 8); i++) visit(r.value(subs, i) ?? 0, depth + 1);
      ifd = next;
    }
  };
  visit(r.firstIfd(), 0);
  return { previews, orientation };
}

/** A Fujifilm RAF: a fixed header names the embedded JPEG (which carries the EXIF). */
function rafPreview(buf: Buffer): RawPreview {
  const jpeg = buf.length >= 92 ? slice(buf, buf.readUInt32BE(84), buf.readUInt32BE(88)) : null;
  if (!jpeg) throw new RawError('this RAF file has no readable JPEG preview');
  return { jpeg, orientation: 0, exif: null, container: 'raf' };
}

interface Box { readonly type: string; readonly start: number; readonly end: number; readonly body: number }

function boxes(buf: Buffer, from: number, to: number): Box[] {
  const out: Box[] = [];
  for (let at = from; at + 8 <= to;) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let body = at + 8;
    if (size === 1 && at + 16 <= to) {
      size = Number(buf.readBigUInt64BE(at + 8));
      body = at + 16;
    } else if (size === 0) size = to - at;
    if (size < 8 || at + size > to) break;
    out.push({ type, start: at, end: at + size, body });
    at += size;
  }
  return out;
}

const CANON_UUID = '85c0b687820f11e08111f4ce462b6a48';

/**
 * A Canon CR3 (ISO-BMFF): the first track is the full-size JPEG (its chunk offset and sample size
 * in the track's tables); the PRVW box in Canon's uuid box is a smaller one. EXIF is in CMT1 (the
 * camera's IFD0) and CMT2 (its EXIF IFD, which has the date), each a TIFF of its own.
 */
function cr3Preview(buf: Buffer): RawPreview {
  const moov = boxes(buf, 0, buf.length).find((b) => b.type === 'moov');
  if (!moov) throw new RawError('this CR3 file has no movie box (it may be cut short)');
  const inMoov = boxes(buf, moov.body, moov.end);
  const previews: Buffer[] = [];
  let exif: Buffer | null = null;
  let exifIfd: Buffer | null = null;
  const canon = inMoov.find((b) => b.type === 'uuid' && buf.toString('hex', b.body, b.body + 16) === CANON_UUID);
  if (canon) {
    for (const b of boxes(buf, canon.body + 16, canon.end)) {
      if (b.type === 'CMT1') exif = buf.subarray(b.body, b.end);
      if (b.type === 'CMT2') exifIfd = buf.subarray(b.body, b.end);
    }
  }
  const trak = inMoov.find((b) => b.type === 'trak');
  const path = (parent: Box | undefined, ...types: string[]): Box | undefined =>
    types.reduce<Box | undefined>((p, t) => (p ? boxes(buf, p.body, p.end).find((b) => b.type === t) : undefined), parent);
  const stbl = path(trak, 'mdia', 'minf', 'stbl');
  const stsz = path(stbl, 'stsz');
  const co64 = path(stbl, 'co64') ?? path(stbl, 'stco');
  if (stsz && co64) {
    const size = buf.readUInt32BE(stsz.body + 4) || buf.readUInt32BE(stsz.body + 12);
    const offset = co64.type === 'co64' ? Number(buf.readBigUInt64BE(co64.body + 8)) : buf.readUInt32BE(co64.body + 8);
    const full = slice(buf, offset, size);
    if (full) previews.push(full);
  }
  for (const b of boxes(buf, 0, buf.length).filter((x) => x.type === 'uuid')) {
    // Canon's preview box: a UUID, 8 bytes, then PRVW (8 bytes, width, height, 2 bytes, the JPEG's length, the JPEG).
    const prvw = boxes(buf, b.body + 16 + 8, b.end).find((x) => x.type === 'PRVW');
    if (prvw && prvw.body + 16 <= prvw.end) {
      const p = slice(buf, prvw.body + 16, buf.readUInt32BE(prvw.body + 12));
      if (p) previews.push(p);
    }
  }
  const jpeg = previews.sort((a, b) => b.length - a.length)[0];
  if (!jpeg) throw new RawError('this CR3 file has no readable JPEG preview');
  return { jpeg, orientation: 0, exif, exifIfd, container: 'cr3' };
}

/** The largest embedded JPEG of a RAW file, or an error that says why there is none. */
export function rawPreview(buf: Buffer): RawPreview {
  if (buf.length < 16) throw new RawError('the file is too short to be a camera RAW');
  if (buf.toString('latin1', 0, 16) === 'FUJIFILMCCD-RAW ') return rafPreview(buf);
  if (buf.toString('latin1', 4, 12) === 'ftypcrx ') return cr3Preview(buf);
  const head = buf.toString('latin1', 0, 4);
  // TIFF, and the TIFF variants of Olympus (IIRO, IIRS, MMOR) and Panasonic (IIU\0).
  if (!/^(II\*\0|MM\0\*|IIRO|IIRS|MMOR|IIU\0)$/.test(head)) throw new RawError('not a camera RAW file this version reads (no TIFF, RAF or CR3 structure)');
  const { previews, orientation } = tiffPreviews(buf);
  const jpeg = previews.sort((a, b) => b.length - a.length)[0];
  if (!jpeg) throw new RawError('this RAW file has no embedded JPEG preview Loupe can read (its pictures are raw sensor data only)');
  return { jpeg, orientation, exif: buf, container: 'tiff' };
}
