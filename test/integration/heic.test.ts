/**
 * iPhone-style HEIC (HEVC-coded HEIF), made in the test by Debian's heif-enc (x265) from JPEGs
 * sharp writes: libvips cannot decode their pixels, libheif in WebAssembly (a worker thread) does.
 * Checked: pixels and colour (a Display P3 profile converted to sRGB), the primary image of a
 * multi-image file, date and camera from the EXIF inside, thumbnails, and bad files (cut short, a
 * wrong brand) recorded with a reason while the rest of the folder indexes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodePhoto } from '../../main/ingest/decoder.js';
import { RENDITIONS } from '../../main/ingest/thumbnails.js';
import { tempDir } from '../helpers/fixtures.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';

const HEIF_ENC = spawnSync('heif-enc', ['--help']).error === undefined;
const t = tempDir();

/** A flat-colour JPEG, optionally with EXIF or tagged Display P3 (its pixels converted to P3). */
async function jpeg(path: string, colour: { r: number; g: number; b: number }, opts: { p3?: boolean; exif?: Record<string, Record<string, string>> } = {}): Promise<string> {
  let img = sharp({ create: { width: 640, height: 480, channels: 3, background: colour } });
  if (opts.exif) img = img.withExif(opts.exif);
  if (opts.p3) img = img.withIccProfile('p3');
  await img.jpeg({ quality: 95 }).toFile(path);
  return path;
}

function heifEnc(inputs: string[], out: string): Buffer {
  execFileSync('heif-enc', ['-q', '90', ...inputs, '-o', out], { stdio: 'pipe' });
  return readFileSync(out);
}

async function centre(thumb: Buffer): Promise<[number, number, number]> {
  const { data, info } = await sharp(thumb).raw().toBuffer({ resolveWithObject: true });
  const i = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

const near = (a: readonly number[], b: readonly number[], tol: number): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

describe.skipIf(!HEIF_ENC)('HEIC photos (heif-enc from libheif-examples: apt-get install libheif-examples)', () => {
  let red: Buffer;
  let p3: Buffer;
  let multi: Buffer;
  let lib: TestLibrary;

  beforeAll(async () => {
    const src = join(t.dir, 'src');
    mkdirSync(src, { recursive: true });
    const redJpg = await jpeg(join(src, 'red.jpg'), { r: 220, g: 30, b: 30 }, {
      exif: { IFD0: { Make: 'Apple', Model: 'iPhone 15 Pro' }, IFD2: { DateTimeOriginal: '2024:07:14 18:30:05' } },
    });
    red = heifEnc([redJpg], join(src, 'red.heic'));
    p3 = heifEnc([await jpeg(join(src, 'p3.jpg'), { r: 255, g: 0, b: 0 }, { p3: true })], join(src, 'p3.heic'));
    multi = heifEnc([redJpg, await jpeg(join(src, 'blue.jpg'), { r: 30, g: 30, b: 220 })], join(src, 'multi.heic'));
    lib = testLibrary();
  });

  afterAll(async () => {
    await lib?.close();
    t.cleanup();
  });

  it('are HEVC-coded, which libvips cannot decode', async () => {
    expect((await sharp(red).metadata()).compression).toBe('hevc');
    await expect(sharp(red).raw().toBuffer()).rejects.toThrow();
  });

  it('decode through libheif, with thumbnails of the right size and colour', async () => {
    const d = await decodePhoto(red, RENDITIONS);
    expect(d.decodedBy).toBe('libheif');
    expect([d.format, d.width, d.height]).toEqual(['heif', 640, 480]);
    expect(d.exif).not.toBeNull();
    for (const th of d.thumbnails) {
      expect(Math.min(th.width, th.height)).toBeLessThanOrEqual(th.size);
      expect(near(await centre(th.data), [220, 30, 30], 12)).toBe(true);
    }
  });

  it('convert a Display P3 picture to sRGB, as every other photo is', async () => {
    const d = await decodePhoto(p3, RENDITIONS);
    const c = await centre(d.thumbnails[0]!.data);
    // Pure sRGB red was written as P3 (about 234, 51, 35); read back it is red again.
    expect(near(c, [255, 0, 0], 14), `centre pixel ${c.join(',')}`).toBe(true);
  });

  it('take the primary image of a file with several', async () => {
    const d = await decodePhoto(multi, RENDITIONS);
    expect(near(await centre(d.thumbnails[0]!.data), [220, 30, 30], 12)).toBe(true);
  });

  it('index with the date and camera from their EXIF; bad ones are recorded with a reason and the rest goes on', async () => {
    mkdirSync(lib.photos, { recursive: true });
    writeFileSync(join(lib.photos, 'IMG_0001.HEIC'), red);
    writeFileSync(join(lib.photos, 'IMG_0002.heic'), multi);
    writeFileSync(join(lib.photos, 'cut.heic'), red.subarray(0, Math.floor(red.length / 2)));
    const wrongBrand = Buffer.from(red);
    wrongBrand.write('xxxx', 8, 'latin1');
    writeFileSync(join(lib.photos, 'brand.heic'), wrongBrand);
    await lib.engine.addFolder(lib.photos);
    await lib.engine.scan();
    const summary = await lib.engine.index();
    expect(summary.ok).toBe(2);
    expect(summary.failed).toBe(2);
    const ok = lib.row(join(lib.photos, 'IMG_0001.HEIC'))!;
    expect(ok).toMatchObject({ state: 'ok', format: 'heif', width: 640, height: 480, camera_make: 'Apple', camera_model: 'iPhone 15 Pro' });
    expect(ok.taken_at).toBe('2024-07-14T18:30:05');
    for (const bad of ['cut.heic', 'brand.heic']) {
      const row = lib.row(join(lib.photos, bad))!;
      expect(row.state, bad).toBe('error');
      expect(row.error, bad).toMatch(/HEIC|HEIF|not a recognised image|truncated/);
    }
    const status = await lib.engine.status();
    expect(status.thumbnails.files).toBeGreaterThanOrEqual(4);
    // The viewer's large picture: browsers cannot show HEIC, so it is made through libheif.
    const large = await lib.engine.media(`photo/${ok.id}`);
    expect(large.type).toBe('image/jpeg');
    expect((await sharp(large.kind === 'bytes' ? large.data : readFileSync(large.path)).metadata()).width).toBe(640);
  });
});
