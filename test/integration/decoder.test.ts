import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { DecodeError, decodePhoto, looksTruncated, MAX_PIXELS } from '../../main/ingest/decoder.js';
import { RENDITIONS } from '../../main/ingest/thumbnails.js';
import { imageBuffer, pngClaiming } from '../helpers/fixtures.js';

const SIZES = RENDITIONS;

describe('decodePhoto', () => {
  it.each(['jpeg', 'png', 'webp', 'heif', 'tiff', 'gif'] as const)('decodes %s and makes JPEG thumbnails within each size, and the encoders\' picture by its shortest side', async (format) => {
    const buf = await imageBuffer({ width: 1500, height: 1000, format, seed: 3 });
    const d = await decodePhoto(buf, SIZES);
    expect(d.width).toBe(1500);
    expect(d.height).toBe(1000);
    expect(d.thumbnails.map((t) => [t.size, t.width, t.height])).toEqual([[256, 256, 171], [1024, 1024, 683], [224, 336, 224]]);
    for (const t of d.thumbnails) {
      const m = await sharp(t.data).metadata();
      expect(m.format).toBe('jpeg');
      expect([m.width, m.height]).toEqual([t.width, t.height]);
    }
  });

  it('applies EXIF orientation: a landscape sensor image tagged "rotate 90" is portrait', async () => {
    const buf = await imageBuffer({ width: 400, height: 200, orientation: 6 });
    const d = await decodePhoto(buf, SIZES);
    expect(d.orientation).toBe(6);
    expect([d.width, d.height]).toEqual([200, 400]);
    const small = d.thumbnails[0]!;
    expect([small.width, small.height]).toEqual([128, 256]);
    const model = d.thumbnails[2]!;
    expect([model.width, model.height]).toEqual([200, 400]); // never enlarged either
  });

  it('never enlarges a small photo', async () => {
    const d = await decodePhoto(await imageBuffer({ width: 100, height: 80 }), SIZES);
    expect(d.thumbnails.map((t) => [t.width, t.height])).toEqual([[100, 80], [100, 80], [100, 80]]);
  });

  it('converts 16-bit, grey and CMYK images to 8-bit sRGB', async () => {
    const grey16 = await sharp(await imageBuffer({ width: 300, height: 200 })).toColourspace('grey16').png().toBuffer();
    const cmyk = await sharp(await imageBuffer({ width: 300, height: 200 })).toColourspace('cmyk').jpeg().toBuffer();
    for (const buf of [grey16, cmyk]) {
      const d = await decodePhoto(buf, SIZES);
      const m = await sharp(d.thumbnails[1]!.data).metadata();
      expect(m.space).toBe('srgb');
      expect(m.depth).toBe('uchar');
    }
  });

  it('refuses a PNG that claims 50,000 × 50,000 pixels before decoding it', async () => {
    const bomb = await pngClaiming(50_000, 50_000);
    await expect(decodePhoto(bomb, SIZES)).rejects.toThrow(DecodeError);
    await expect(decodePhoto(bomb, SIZES)).rejects.toThrow(/50000 × 50000 pixels \(2500 megapixels; the limit is 200\)/);
    // Just under the limit is not taken for a bomb: it fails later, for what it is (no pixel data).
    const side = Math.floor(Math.sqrt(MAX_PIXELS));
    await expect(decodePhoto(await pngClaiming(side, side), SIZES)).rejects.toThrow(DecodeError);
    await expect(decodePhoto(await pngClaiming(side, side), SIZES)).rejects.not.toThrow(/too large/);
  });

  it('tells truncation from the bytes, whatever libvips says', () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
    expect(looksTruncated(jpeg, 'jpeg')).toBe(false);
    expect(looksTruncated(jpeg.subarray(0, 7), 'jpeg')).toBe(true);
    expect(looksTruncated(Buffer.from('....IEND\xaeB`\x82', 'latin1'), 'png')).toBe(false);
    expect(looksTruncated(Buffer.from('....IDAT', 'latin1'), 'png')).toBe(true);
    expect(looksTruncated(Buffer.from([0x47, 0x49, 0x46, 0x3b]), 'gif')).toBe(false);
    expect(looksTruncated(Buffer.from([0x47, 0x49, 0x46, 0x00]), 'gif')).toBe(true);
    expect(looksTruncated(Buffer.from([1, 2, 3]), 'webp')).toBe(false);
  });

  it('reports truncated, empty and fake files with a reason', async () => {
    const jpeg = await imageBuffer({ width: 800, height: 600 });
    await expect(decodePhoto(jpeg.subarray(0, Math.floor(jpeg.length / 2)), SIZES)).rejects.toThrow(/truncated or corrupt/);
    await expect(decodePhoto(Buffer.alloc(0), SIZES)).rejects.toThrow('empty file (0 bytes)');
    await expect(decodePhoto(Buffer.from('GIF89a? no, just text pretending'), SIZES)).rejects.toThrow(DecodeError);
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 255));
    await expect(decodePhoto(random, SIZES)).rejects.toThrow(/not a recognised image/);
  });
});
