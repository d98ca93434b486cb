import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { appleContentIdentifier, fileDate, parseExifDate, readMeta } from '../../main/ingest/metadata.js';
import { imageBuffer } from '../helpers/fixtures.js';

describe('parseExifDate', () => {
  it('reads wall-clock time without an offset as UTC for sorting', () => {
    expect(parseExifDate('2023:07:14 18:22:05', undefined)).toEqual({ iso: '2023-07-14T18:22:05', ms: Date.UTC(2023, 6, 14, 18, 22, 5) });
  });
  it('applies the EXIF offset', () => {
    expect(parseExifDate('2023:07:14 18:22:05', '+02:00')).toEqual({ iso: '2023-07-14T18:22:05+02:00', ms: Date.UTC(2023, 6, 14, 16, 22, 5) });
    expect(parseExifDate('2023:12:31 23:30:00', '-05:30')!.ms).toBe(Date.UTC(2024, 0, 1, 5, 0, 0));
  });
  it('keeps sub-seconds', () => {
    expect(parseExifDate('2023:07:14 18:22:05', null, '47')).toEqual({ iso: '2023-07-14T18:22:05.470', ms: Date.UTC(2023, 6, 14, 18, 22, 5, 470) });
  });
  it('refuses blank and impossible dates that cameras write', () => {
    expect(parseExifDate('0000:00:00 00:00:00', null)).toBeNull();
    expect(parseExifDate('    :  :     :  :  ', null)).toBeNull();
    expect(parseExifDate('2023:13:01 00:00:00', null)).toBeNull();
    expect(parseExifDate(12345, null)).toBeNull();
  });
});

describe('fileDate', () => {
  it('takes the earlier of birth and modification time', () => {
    expect(fileDate(2_000_000, 1_000_000).ms).toBe(1_000_000);
    expect(fileDate(2_000_000, 0).ms).toBe(2_000_000);
    expect(fileDate(2_000_000, 3_000_000).iso).toBe(new Date(2_000_000).toISOString());
  });
});

describe('readMeta on real EXIF written by sharp', () => {
  async function exifOf(exif: Record<string, Record<string, string>>, format: 'jpeg' | 'png' | 'webp' | 'heif' = 'jpeg'): Promise<Buffer | null> {
    const buf = await imageBuffer({ exif, format });
    return (await sharp(buf).metadata()).exif ?? null;
  }

  it('reads camera, lens, date with offset and GPS (south and west are negative)', async () => {
    const exif = await exifOf({
      IFD0: { Make: 'Canon', Model: 'Canon EOS R5' },
      IFD2: { DateTimeOriginal: '2023:07:14 18:22:05', OffsetTimeOriginal: '+02:00', LensModel: 'RF24-105mm F4 L IS USM' },
      IFD3: { GPSLatitudeRef: 'S', GPSLatitude: '33/1 51/1 3600/100', GPSLongitudeRef: 'W', GPSLongitude: '70/1 30/1 0/1', GPSAltitude: '520/1' },
    });
    const m = await readMeta(exif, { mtimeMs: 0, birthtimeMs: 0 });
    expect(m.cameraMake).toBe('Canon');
    expect(m.cameraModel).toBe('Canon EOS R5');
    expect(m.lens).toBe('RF24-105mm F4 L IS USM');
    expect(m.takenAt).toBe('2023-07-14T18:22:05+02:00');
    expect(m.takenAtMs).toBe(Date.UTC(2023, 6, 14, 16, 22, 5));
    expect(m.takenAtSource).toBe('exif');
    expect(m.gpsLat).toBeCloseTo(-(33 + 51 / 60 + 36 / 3600), 6);
    expect(m.gpsLon).toBeCloseTo(-70.5, 6);
    expect(m.gpsAlt).toBe(520);
  });

  it.each(['png', 'webp', 'heif'] as const)('reads the date from %s too', async (format) => {
    const exif = await exifOf({ IFD0: { Make: 'Fujifilm' }, IFD2: { DateTimeOriginal: '2021:02:03 04:05:06' } }, format);
    const m = await readMeta(exif, { mtimeMs: 0, birthtimeMs: 0 });
    expect(m.takenAt).toBe('2021-02-03T04:05:06');
    expect(m.cameraMake).toBe('Fujifilm');
  });

  it('falls back to file times without EXIF, and survives a damaged block', async () => {
    const none = await readMeta(null, { mtimeMs: 1_700_000_000_000, birthtimeMs: 0 });
    expect(none).toMatchObject({ takenAtSource: 'file', takenAtMs: 1_700_000_000_000, cameraMake: null, gpsLat: null });
    const junk = await readMeta(Buffer.concat([Buffer.from('Exif\0\0II*\0'), Buffer.alloc(40, 0xff)]), { mtimeMs: 5000, birthtimeMs: 0 });
    expect(junk.takenAtSource).toBe('file');
  });
});

describe("Apple's content identifier", () => {
  const note = (tag: number, value: string): Buffer => {
    const head = Buffer.concat([Buffer.from('Apple iOS\0', 'latin1'), Buffer.from([0, 1]), Buffer.from('MM')]);
    const v = Buffer.from(`${value}\0`, 'latin1');
    const ifd = Buffer.alloc(18);
    ifd.writeUInt16BE(1, 0);
    ifd.writeUInt16BE(tag, 2);
    ifd.writeUInt16BE(2, 4);
    ifd.writeUInt32BE(v.length, 6);
    ifd.writeUInt32BE(head.length + ifd.length, 10);
    return Buffer.concat([head, ifd, v]);
  };
  it('is read from an Apple maker note, and from nothing else', () => {
    expect(appleContentIdentifier(note(0x11, '4A4B-77AA-1234'))).toBe('4A4B-77AA-1234');
    expect(appleContentIdentifier(note(0x12, '4A4B-77AA-1234'))).toBeNull();
    expect(appleContentIdentifier(Buffer.from('Nikon\0\x02\x10\0\0MM*\0\0\0\x08'))).toBeNull();
    // An offset past the note's end is not followed.
    const cut = note(0x11, '4A4B-77AA-1234');
    expect(appleContentIdentifier(cut.subarray(0, cut.length - 8))).toBeNull();
  });
});
