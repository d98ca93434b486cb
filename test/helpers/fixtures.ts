import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'loupe-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export type Fmt = 'jpeg' | 'png' | 'webp' | 'avif' | 'heif' | 'tiff' | 'gif';

export interface ImageSpec {
  readonly width?: number;
  readonly height?: number;
  /** Seeds the picture: different seeds give different content (and hashes). */
  readonly seed?: number;
  readonly format?: Fmt;
  readonly orientation?: number;
  readonly exif?: Record<string, Record<string, string>>;
}

/** A real image made by sharp: a colour gradient with a seeded block, so each seed is distinct. */
export async function imageBuffer(spec: ImageSpec = {}): Promise<Buffer> {
  const width = spec.width ?? 64;
  const height = spec.height ?? 48;
  const seed = spec.seed ?? 0;
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const block = ((x >> 3) + (y >> 3) + seed) % 5 === 0 ? 90 : 0;
      px[i] = (x * 255 / width + seed * 37) & 255;
      px[i + 1] = (y * 255 / height + seed * 91 + block) & 255;
      px[i + 2] = (seed * 53 + block * 2) & 255;
    }
  }
  let img = sharp(px, { raw: { width, height, channels: 3 } });
  if (spec.exif) img = img.withExif(spec.exif);
  if (spec.orientation) img = img.withMetadata({ orientation: spec.orientation });
  const fmt = spec.format ?? 'jpeg';
  if (fmt === 'heif') return img.heif({ compression: 'av1', quality: 60 }).toBuffer();
  return img.toFormat(fmt).toBuffer();
}

export async function writeImage(path: string, spec: ImageSpec = {}): Promise<Buffer> {
  const buf = await imageBuffer(spec);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, buf);
  return buf;
}

/** A real PNG made by sharp whose header is then rewritten to claim `width` × `height` pixels. */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await imageBuffer({ width: 16, height: 16, format: 'png' }));
  // IHDR data starts at byte 16: width, height (big-endian), then its CRC over type + data at 29.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}
