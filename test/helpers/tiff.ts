/**
 * Writes real TIFF containers (little-endian), laid out as camera RAW files are: IFD chains,
 * SubIFDs, EXIF and GPS IFDs, and data blocks (strips, embedded JPEGs) that tags point at.
 * Used to build DNG and CR2/NEF-like files around real JPEG previews.
 */

export type TiffValue =
  | { readonly ascii: string }
  | { readonly short: readonly number[] }
  | { readonly long: readonly number[] }
  | { readonly rational: readonly (readonly [number, number])[] }
  | { readonly bytes: Buffer }
  /** LONG offsets of child IFDs (SubIFDs, the EXIF and GPS pointers). */
  | { readonly ifds: readonly Ifd[] }
  /** A LONG offset of a data block placed after the IFDs. */
  | { readonly offsetOf: Buffer }
  /** A LONG: the length of that block. */
  | { readonly lengthOf: Buffer };

export type Ifd = readonly (readonly [number, TiffValue])[];

const TYPES = { ascii: 2, short: 3, long: 4, rational: 5, bytes: 7 } as const;

function encode(v: TiffValue, offsets: Map<object, number>): { type: number; count: number; data: Buffer } {
  if ('ascii' in v) return { type: TYPES.ascii, count: v.ascii.length + 1, data: Buffer.from(`${v.ascii}\0`, 'latin1') };
  if ('short' in v) {
    const b = Buffer.alloc(v.short.length * 2);
    v.short.forEach((n, i) => b.writeUInt16LE(n, i * 2));
    return { type: TYPES.short, count: v.short.length, data: b };
  }
  if ('rational' in v) {
    const b = Buffer.alloc(v.rational.length * 8);
    v.rational.forEach(([n, d], i) => { b.writeUInt32LE(n, i * 8); b.writeUInt32LE(d, i * 8 + 4); });
    return { type: TYPES.rational, count: v.rational.length, data: b };
  }
  if ('bytes' in v) return { type: TYPES.bytes, count: v.bytes.length, data: v.bytes };
  const longs = 'long' in v ? v.long : 'ifds' in v ? v.ifds.map((x) => offsets.get(x) ?? 0)
    : 'offsetOf' in v ? [offsets.get(v.offsetOf) ?? 0] : [v.lengthOf.length];
  const b = Buffer.alloc(longs.length * 4);
  longs.forEach((n, i) => b.writeUInt32LE(n, i * 4));
  return { type: TYPES.long, count: longs.length, data: b };
}

/** Every IFD reachable from the chain, in order, and every data block. */
function collect(chain: readonly Ifd[]): { ifds: Ifd[]; blocks: Buffer[] } {
  const ifds: Ifd[] = [];
  const blocks: Buffer[] = [];
  const visit = (ifd: Ifd): void => {
    ifds.push(ifd);
    for (const [, v] of ifd) {
      if ('ifds' in v) v.ifds.forEach(visit);
      if ('offsetOf' in v && !blocks.includes(v.offsetOf)) blocks.push(v.offsetOf);
    }
  };
  chain.forEach(visit);
  return { ifds, blocks };
}

const sizeOf = (ifd: Ifd): number => {
  const outOfLine = ifd.reduce((a, [, v]) => {
    const n = encode(v, new Map()).data.length;
    return a + (n > 4 ? n + (n & 1) : 0);
  }, 0);
  return 2 + ifd.length * 12 + 4 + outOfLine;
};

/**
 * A TIFF file whose IFD0 chain is `chain` (IFD0, IFD1, …). `magic` replaces the header's first 4
 * bytes (e.g. Olympus' "IIRO"); `afterHeader` goes right after the header (CR2's "CR" marker).
 */
export function buildTiff(chain: readonly Ifd[], opts: { magic?: string; afterHeader?: Buffer } = {}): Buffer {
  const { ifds, blocks } = collect(chain);
  const offsets = new Map<object, number>();
  const after = opts.afterHeader ?? Buffer.alloc(0);
  let at = 8 + after.length;
  for (const ifd of ifds) {
    offsets.set(ifd, at);
    at += sizeOf(ifd);
  }
  for (const b of blocks) {
    offsets.set(b, at);
    at += b.length + (b.length & 1);
  }
  const out = Buffer.alloc(at);
  out.write(opts.magic ?? 'II*\0', 0, 'latin1');
  out.writeUInt32LE(offsets.get(chain[0]!)!, 4);
  after.copy(out, 8);
  for (const ifd of ifds) {
    const base = offsets.get(ifd)!;
    const sorted = [...ifd].sort((a, b) => a[0] - b[0]);
    out.writeUInt16LE(sorted.length, base);
    let extra = base + 2 + sorted.length * 12 + 4;
    sorted.forEach(([tag, v], i) => {
      const e = base + 2 + i * 12;
      const { type, count, data } = encode(v, offsets);
      out.writeUInt16LE(tag, e);
      out.writeUInt16LE(type, e + 2);
      out.writeUInt32LE(count, e + 4);
      if (data.length <= 4) data.copy(out, e + 8);
      else {
        out.writeUInt32LE(extra, e + 8);
        data.copy(out, extra);
        extra += data.length + (data.length & 1);
      }
    });
    const next = chain.indexOf(ifd);
    out.writeUInt32LE(next >= 0 && next + 1 < chain.length ? offsets.get(chain[next + 1]!)! : 0, base + 2 + sorted.length * 12);
  }
  for (const b of blocks) b.copy(out, offsets.get(b)!);
  return out;
}

export const T = {
  newSubfileType: 0x00fe, width: 0x0100, height: 0x0101, compression: 0x0103, make: 0x010f, model: 0x0110,
  stripOffsets: 0x0111, orientation: 0x0112, stripByteCounts: 0x0117, dateTime: 0x0132, subIfds: 0x014a,
  jpegOffset: 0x0201, jpegLength: 0x0202, exifIfd: 0x8769, gpsIfd: 0x8825, dateTimeOriginal: 0x9003,
  lensModel: 0xa434, dngVersion: 0xc612,
  gpsLatRef: 1, gpsLat: 2, gpsLonRef: 3, gpsLon: 4,
} as const;
