/**
 * Camera RAW files built in the test as real containers around real JPEG previews (sharp): a DNG
 * (thumbnail in IFD0, raw data and a full-size preview in SubIFDs, EXIF and GPS IFDs) and a
 * CR2/NEF-like TIFF (the full-size JPEG pointed at from IFD0, a small one in IFD1), a RAF and a
 * RAW with no preview. Indexed through the real engine: the preview is decoded, turned as the RAW
 * says, and the RAW's own EXIF gives date, camera, lens and place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodePhoto } from '../../main/ingest/decoder.js';
import { rawPreview } from '../../main/ingest/raw.js';
import { RENDITIONS } from '../../main/ingest/thumbnails.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';
import { buildTiff, T, type Ifd } from '../helpers/tiff.js';

const jpeg = (width: number, height: number, colour: { r: number; g: number; b: number }): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: colour } }).jpeg({ quality: 90 }).toBuffer();

let lib: TestLibrary;
let dng: Buffer;
let cr2: Buffer;
let raf: Buffer;
let bare: Buffer;
let dngPreview: Buffer;
let cr3: Buffer;
let cr3Full: Buffer;

/** An ISO-BMFF box. */
const box = (type: string, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
};
const u32 = (...ns: number[]): Buffer => Buffer.concat(ns.map((n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; }));

/**
 * A Canon CR3 as its structure is: ftyp "crx ", moov with Canon's uuid box (CMT1 = IFD0 as TIFF,
 * CMT2 = the EXIF IFD as a TIFF of its own) and a track whose one sample is the full-size JPEG in mdat.
 */
function buildCr3(full: Buffer): Buffer {
  const ftyp = box('ftyp', Buffer.from('crx ', 'latin1'), u32(1), Buffer.from('crx isom', 'latin1'));
  const cmt1 = box('CMT1', buildTiff([[[T.make, { ascii: 'Canon' }], [T.model, { ascii: 'Canon EOS R6' }]]]));
  const cmt2 = box('CMT2', buildTiff([[[T.dateTimeOriginal, { ascii: '2024:03:02 11:12:13' }], [T.lensModel, { ascii: 'RF24-105mm F4 L IS USM' }]]]));
  const canon = box('uuid', Buffer.from('85c0b687820f11e08111f4ce462b6a48', 'hex'), cmt1, cmt2);
  const trakFor = (offset: number): Buffer => box('trak', box('mdia', box('minf', box('stbl',
    box('stsz', u32(0, 0, 1, full.length)),
    box('co64', u32(0, 1), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(offset)); return b; })()),
  ))));
  const moovLength = box('moov', canon, trakFor(0)).length;
  const mdatStart = ftyp.length + moovLength + 8;
  return Buffer.concat([ftyp, box('moov', canon, trakFor(mdatStart)), box('mdat', full)]);
}

beforeAll(async () => {
  dngPreview = await jpeg(1200, 800, { r: 30, g: 160, b: 60 });
  const thumb = Buffer.alloc(160 * 120 * 3, 128); // uncompressed RGB, as DNG thumbnails are
  const sensor = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xc3, 0, 11]), Buffer.alloc(4000, 7)]); // lossless JPEG: not a preview
  const exif: Ifd = [[T.dateTimeOriginal, { ascii: '2023:05:06 07:08:09' }], [T.lensModel, { ascii: 'APO-Summicron-SL 50 f/2' }]];
  const gps: Ifd = [
    [T.gpsLatRef, { ascii: 'N' }], [T.gpsLat, { rational: [[38, 1], [42, 1], [3000, 100]] }],
    [T.gpsLonRef, { ascii: 'W' }], [T.gpsLon, { rational: [[9, 1], [8, 1], [2400, 100]] }],
  ];
  dng = buildTiff([[
    [T.newSubfileType, { long: [1] }], [T.width, { long: [160] }], [T.height, { long: [120] }], [T.compression, { short: [1] }],
    [T.make, { ascii: 'Leica Camera AG' }], [T.model, { ascii: 'LEICA SL2' }], [T.orientation, { short: [6] }],
    [T.stripOffsets, { offsetOf: thumb }], [T.stripByteCounts, { lengthOf: thumb }], [T.dngVersion, { bytes: Buffer.from([1, 4, 0, 0]) }],
    [T.subIfds, { ifds: [
      [[T.newSubfileType, { long: [0] }], [T.compression, { short: [7] }], [T.stripOffsets, { offsetOf: sensor }], [T.stripByteCounts, { lengthOf: sensor }]],
      [[T.newSubfileType, { long: [1] }], [T.compression, { short: [7] }], [T.width, { long: [1200] }], [T.height, { long: [800] }],
        [T.stripOffsets, { offsetOf: dngPreview }], [T.stripByteCounts, { lengthOf: dngPreview }]],
    ] }],
    [T.exifIfd, { ifds: [exif] }], [T.gpsIfd, { ifds: [gps] }],
  ]]);
  const full = await jpeg(1600, 1064, { r: 200, g: 40, b: 40 });
  const small = await jpeg(160, 106, { r: 40, g: 40, b: 200 });
  cr2 = buildTiff([
    [[T.make, { ascii: 'Canon' }], [T.model, { ascii: 'Canon EOS 5D Mark IV' }], [T.orientation, { short: [1] }],
      [T.jpegOffset, { offsetOf: full }], [T.jpegLength, { lengthOf: full }], [T.exifIfd, { ifds: [[[T.dateTimeOriginal, { ascii: '2022:12:24 20:15:00' }]]] }]],
    [[T.jpegOffset, { offsetOf: small }], [T.jpegLength, { lengthOf: small }]],
  ], { afterHeader: Buffer.from([0x43, 0x52, 2, 0, 0, 0, 0, 0]) });
  const rafJpeg = await sharp({ create: { width: 900, height: 600, channels: 3, background: { r: 250, g: 200, b: 20 } } })
    .withExif({ IFD0: { Make: 'FUJIFILM', Model: 'X-T5' }, IFD2: { DateTimeOriginal: '2021:03:04 05:06:07' } }).jpeg().toBuffer();
  const header = Buffer.alloc(160);
  header.write('FUJIFILMCCD-RAW 0201FF383501', 0, 'latin1');
  header.writeUInt32BE(160, 84);
  header.writeUInt32BE(rafJpeg.length, 88);
  raf = Buffer.concat([header, rafJpeg, Buffer.alloc(2000, 3)]);
  bare = buildTiff([[[T.make, { ascii: 'Nikon' }], [T.compression, { short: [1] }], [T.stripOffsets, { offsetOf: thumb }], [T.stripByteCounts, { lengthOf: thumb }]]]);
  cr3Full = await jpeg(1000, 666, { r: 90, g: 90, b: 220 });
  cr3 = buildCr3(cr3Full);
  lib = testLibrary();
});

afterAll(async () => {
  await lib?.close();
});

describe('camera RAW', () => {
  it('finds the largest embedded JPEG: the DNG\'s preview SubIFD, not the raw data or the thumbnail; the CR2\'s full-size JPEG', async () => {
    const d = rawPreview(dng);
    expect(d.jpeg.equals(dngPreview)).toBe(true);
    expect(d.orientation).toBe(6);
    const c = rawPreview(cr2);
    expect((await sharp(c.jpeg).metadata()).width).toBe(1600);
    expect((await sharp(rawPreview(raf).jpeg).metadata()).width).toBe(900);
    expect(rawPreview(cr3).jpeg.equals(cr3Full)).toBe(true);
  });

  it('decodes the preview turned as the RAW says', async () => {
    const d = await decodePhoto(dng, RENDITIONS, { raw: 'dng' });
    expect([d.format, d.width, d.height, d.orientation, d.decodedBy]).toEqual(['dng', 800, 1200, 6, 'raw-preview']);
    const t = d.thumbnails[0]!;
    expect(t.height).toBeGreaterThan(t.width);
  });

  it('indexes DNG, CR2, CR3, RAF with the RAW\'s date, camera, lens and place; a RAW without preview, or cut short, is recorded with the reason', async () => {
    mkdirSync(lib.photos, { recursive: true });
    writeFileSync(join(lib.photos, 'L1000001.DNG'), dng);
    writeFileSync(join(lib.photos, 'IMG_0001.CR2'), cr2);
    writeFileSync(join(lib.photos, 'DSCF0001.RAF'), raf);
    writeFileSync(join(lib.photos, 'IMG_0002.CR3'), cr3);
    writeFileSync(join(lib.photos, 'DSC_0001.NEF'), bare);
    writeFileSync(join(lib.photos, 'cut.dng'), dng.subarray(0, 200));
    await lib.engine.addFolder(lib.photos);
    await lib.engine.scan();
    const summary = await lib.engine.index();
    expect([summary.ok, summary.failed]).toEqual([4, 2]);
    expect(lib.row(join(lib.photos, 'IMG_0002.CR3'))).toMatchObject({
      state: 'ok', format: 'cr3', width: 1000, camera_make: 'Canon', camera_model: 'Canon EOS R6',
      // The date and lens are in CMT2, the EXIF IFD a CR3 keeps apart.
      taken_at: '2024-03-02T11:12:13', taken_at_source: 'exif', lens: 'RF24-105mm F4 L IS USM',
    });
    expect(lib.row(join(lib.photos, 'L1000001.DNG'))).toMatchObject({
      state: 'ok', format: 'dng', width: 800, height: 1200, camera_make: 'Leica Camera AG', camera_model: 'LEICA SL2',
      lens: 'APO-Summicron-SL 50 f/2', taken_at: '2023-05-06T07:08:09',
    });
    const row = lib.row(join(lib.photos, 'L1000001.DNG'))!;
    expect(row.gps_lat).toBeCloseTo(38.70833, 4);
    expect(row.gps_lon).toBeCloseTo(-9.14, 4);
    expect(lib.row(join(lib.photos, 'IMG_0001.CR2'))).toMatchObject({ format: 'cr2', width: 1600, camera_model: 'Canon EOS 5D Mark IV', taken_at: '2022-12-24T20:15:00' });
    expect(lib.row(join(lib.photos, 'DSCF0001.RAF'))).toMatchObject({ format: 'raf', width: 900, camera_make: 'FUJIFILM', taken_at: '2021-03-04T05:06:07' });
    expect(lib.row(join(lib.photos, 'DSC_0001.NEF'))).toMatchObject({ state: 'error', error: expect.stringMatching(/no embedded JPEG preview/) });
    expect(lib.row(join(lib.photos, 'cut.dng'))).toMatchObject({ state: 'error', error: expect.stringMatching(/preview|damaged|cut short/) });
    // The viewer's large picture is the preview, turned.
    const large = await lib.engine.media(`photo/${lib.row(join(lib.photos, 'L1000001.DNG'))!.id}`);
    expect(large.kind === 'bytes' ? (await sharp(large.data).metadata()).height : 0).toBe(1200);
    // Found by format, as any other photo.
    expect((await lib.engine.search({ filters: { formats: ['dng', 'raf'] } })).total).toBe(2);
  });
});
