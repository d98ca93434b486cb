import { crc32, deflateSync } from 'node:zlib';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { decodeHeif } from './heif.js';
import { RawError, rawPreview } from './raw.js';
import type { Rendition } from './thumbnails.js';
import { errorMessage } from '../util/errors.js';

/** Images above this many pixels are refused before decoding (decompression bombs). 200 MP covers every camera sold. */
export const MAX_PIXELS = 200_000_000;

export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export interface Encoded {
  readonly size: number;
  readonly width: number;
  readonly height: number;
  readonly data: Buffer;
  readonly format: 'jpeg';
}

export interface DecodedPhoto {
  readonly format: string;
  /** As displayed, after EXIF orientation. */
  readonly width: number;
  readonly height: number;
  readonly orientation: number;
  /** The raw EXIF block, or for TIFF the whole file (its tags live in the file itself). */
  readonly exif: Buffer | null;
  /** An EXIF IFD stored apart as a TIFF of its own (a CR3's CMT2), or absent. */
  readonly exifIfd?: Buffer | null;
  readonly thumbnails: readonly Encoded[];
  /** Which decoder read the pixels: libvips (sharp), libheif for HEVC-coded HEIF, or a RAW's embedded preview (by libvips). */
  readonly decodedBy: 'libvips' | 'libheif' | 'raw-preview';
}

/**
 * Whether the file ends before its format's end marker. Read from the bytes, because libvips'
 * error text is kept per thread and can come back as "Unknown error" when decodes run in parallel.
 */
export function looksTruncated(buf: Buffer, format: string | undefined): boolean {
  const tail = buf.subarray(Math.max(0, buf.length - 1024));
  if (format === 'jpeg') return tail.lastIndexOf(Buffer.from([0xff, 0xd9])) < 0;
  if (format === 'png') return tail.lastIndexOf(Buffer.from('IEND')) < 0;
  if (format === 'gif') return buf[buf.length - 1] !== 0x3b;
  return false;
}

function describeSharpError(err: unknown): string {
  const msg = errorMessage(err);
  if (/unsupported image format/i.test(msg)) {
    return 'not a recognised image: the content is not JPEG, PNG, WebP, AVIF/HEIF, TIFF or GIF';
  }
  if (/pixel limit/i.test(msg)) return `image is too large to decode safely (more than ${MAX_PIXELS / 1e6} megapixels)`;
  if (/premature end|truncated|unexpected end|end of (?:input|file)|not enough data|read error|corrupt|invalid/i.test(msg)) {
    return `the file is truncated or corrupt (${msg.split('\n')[0]!.trim()})`;
  }
  if (/hevc|unsupported (?:codec|compression)|no decoder|heif/i.test(msg)) {
    return `the HEIF/HEIC file could not be read (${msg.split('\n')[0]!.trim()}): it may be truncated, or not a HEIF file`;
  }
  return `could not decode the image (${msg.split('\n')[0]!.trim()})`;
}

/** A PNG with an ICC profile chunk (iCCP) added after its header, so libvips converts from that profile. */
export function pngWithIcc(png: Buffer, icc: Buffer): Buffer {
  const IHDR_END = 8 + 25; // signature, then the IHDR chunk (length, type, 13 bytes, CRC)
  const body = Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(icc)]);
  const chunk = Buffer.alloc(12 + body.length);
  chunk.writeUInt32BE(body.length, 0);
  chunk.write('iCCP', 4, 'latin1');
  body.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + body.length)), 8 + body.length);
  return Buffer.concat([png.subarray(0, IHDR_END), chunk, png.subarray(IHDR_END)]);
}

type RawPicture = { data: Buffer; info: OutputInfo };

/**
 * A HEIC/HEIF photo libvips cannot decode (HEVC-coded), through libheif in a worker: already
 * turned as displayed, shrunk to `largest`, then converted from its ICC profile (iPhones record
 * Display P3) to sRGB as every other photo is.
 */
async function decodeWithLibheif(
  buf: Buffer, meta: Metadata, largest: number,
): Promise<{ raw: RawPicture; width: number; height: number }> {
  let px;
  try {
    px = await decodeHeif(buf);
  } catch (err) {
    throw new DecodeError(`the HEIC/HEIF file could not be decoded: ${errorMessage(err)}`);
  }
  let img = sharp(px.data, { raw: { width: px.width, height: px.height, channels: 4 } })
    .resize({ width: largest, height: largest, fit: 'inside', withoutEnlargement: true });
  if (meta.icc) {
    // Raw pixels carry no profile: a lossless, uncompressed PNG of the shrunk picture does.
    const png = await img.png({ compressionLevel: 0 }).toBuffer();
    img = sharp(pngWithIcc(png, meta.icc));
  }
  return { raw: await img.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true }), width: px.width, height: px.height };
}

/** HEVC-coded HEIF: libvips reads its header, EXIF and profile, but has no decoder for its pixels. */
function needsLibheif(meta: Metadata): boolean {
  return meta.format === 'heif' && meta.compression === 'hevc';
}

/** Turns a picture as EXIF orientation `o` says (sharp rotates clockwise). */
function orient(img: Sharp, o: number): Sharp {
  switch (o) {
    case 2: return img.flop();
    case 3: return img.rotate(180);
    case 4: return img.flip();
    case 5: return img.rotate(90).flop();
    case 6: return img.rotate(90);
    case 7: return img.rotate(270).flop();
    case 8: return img.rotate(270);
    default: return img;
  }
}

export interface DecodeOptions {
  /** A camera RAW of this format (dng, cr2, …): decoded from its embedded JPEG preview. */
  readonly raw?: string;
}

/**
 * Decodes a photo once and encodes its thumbnails. EXIF orientation is applied; colour is
 * converted to sRGB from any embedded profile; JPEGs are shrunk while loading, so a 12 MP photo
 * is never decoded at full size. A camera RAW is read through its embedded preview, turned as the
 * RAW says, with the RAW's own EXIF.
 */
export async function decodePhoto(buf: Buffer, renditions: readonly Rendition[], opts: DecodeOptions = {}): Promise<DecodedPhoto> {
  if (buf.length === 0) throw new DecodeError('empty file (0 bytes)');
  if (opts.raw) return decodeRaw(buf, renditions, opts.raw);
  return decodeImage(buf, renditions, null);
}

async function decodeRaw(buf: Buffer, renditions: readonly Rendition[], format: string): Promise<DecodedPhoto> {
  let preview;
  try {
    preview = rawPreview(buf);
  } catch (err) {
    throw new DecodeError(err instanceof RawError ? err.message : `the RAW file is damaged or cut short (${errorMessage(err)})`);
  }
  const picture = await decodeImage(preview.jpeg, renditions, preview.orientation || null);
  return { ...picture, format, exif: preview.exif ?? picture.exif, exifIfd: preview.exifIfd ?? null, decodedBy: 'raw-preview' };
}

/** `orientation`: apply this one instead of the picture's own EXIF (a RAW's preview carries none of its own). */
async function decodeImage(buf: Buffer, renditions: readonly Rendition[], forced: number | null): Promise<DecodedPhoto> {
  let meta: Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new DecodeError(describeSharpError(err));
  }
  const w = meta.width ?? 0;
  const h = meta.pageHeight ?? meta.height ?? 0;
  if (w <= 0 || h <= 0) throw new DecodeError('the image has no pixels (width or height is zero)');
  if (w * h > MAX_PIXELS) {
    throw new DecodeError(`image is too large to decode safely: ${w} × ${h} pixels ` +
      `(${Math.round((w * h) / 1e6)} megapixels; the limit is ${MAX_PIXELS / 1e6}) — possibly a decompression bomb`);
  }
  const largest = Math.max(...renditions.map((r) => r.size));
  if (needsLibheif(meta)) {
    // libheif applies the file's own rotation (irot/imir), which is how HEIF orients a picture.
    const { raw, width, height } = await decodeWithLibheif(buf, meta, largest);
    const thumbnails = await encodeThumbnails(raw, renditions);
    return { format: 'heif', width, height, orientation: 1, exif: meta.exif ?? null, thumbnails, decodedBy: 'libheif' };
  }
  const orientation = forced ?? meta.orientation ?? 1;
  const swap = orientation >= 5 && orientation <= 8;
  let raw: RawPicture;
  try {
    const img = sharp(buf, { failOn: 'truncated', limitInputPixels: MAX_PIXELS, sequentialRead: true, animated: false });
    raw = await (forced === null ? img.autoOrient() : orient(img, forced))
      .resize({ width: largest, height: largest, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    if (looksTruncated(buf, meta.format)) {
      throw new DecodeError(`the file is truncated or corrupt (it ends before the ${meta.format?.toUpperCase()} end marker)`);
    }
    throw new DecodeError(describeSharpError(err));
  }
  const thumbnails = await encodeThumbnails(raw, renditions);
  return {
    format: meta.format ?? 'unknown',
    width: swap ? h : w,
    height: swap ? w : h,
    orientation,
    exif: meta.exif ?? (meta.format === 'tiff' ? buf : null),
    thumbnails,
    decodedBy: 'libvips',
  };
}

async function encodeThumbnails(raw: RawPicture, renditions: readonly Rendition[]): Promise<Encoded[]> {
  const input = { raw: { width: raw.info.width, height: raw.info.height, channels: raw.info.channels } } as const;
  return Promise.all(renditions.map(async ({ size, fit, quality }): Promise<Encoded> => {
    // Flattened onto white: thumbnails are JPEG, which encodes five to ten times faster than WebP
    // at these sizes; with two sizes per photo it took indexing of 12 MP JPEGs from 12 to ~21 photos/s.
    // The encoders' picture keeps full colour resolution (4:4:4): it is measured, not looked at.
    const out = await sharp(raw.data, input)
      .resize({ width: size, height: size, fit, withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality, mozjpeg: false, optimiseCoding: true, chromaSubsampling: fit === 'outside' ? '4:4:4' : '4:2:0' })
      .toBuffer({ resolveWithObject: true });
    return { size, width: out.info.width, height: out.info.height, data: out.data, format: 'jpeg' };
  }));
}
