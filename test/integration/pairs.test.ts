/**
 * RAW+JPEG pairs as cameras write them (IMG_0001.CR2 beside IMG_0001.JPG), built as real files,
 * and Live Photos (IMG_0005.JPG beside IMG_0005.MOV, the movie made by ffmpeg; and a pair
 * renamed on export, found by the content identifier Apple writes in the JPEG's maker note and
 * the MOV's metadata): one photo in results, both files on it; when the JPEG is deleted the RAW is the photo and keeps
 * its album place; when a RAW is deleted its JPEG stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { testLibrary, type TestLibrary } from '../helpers/library.js';
import { buildTiff, T } from '../helpers/tiff.js';

const FFMPEG = spawnSync('ffmpeg', ['-version']).error === undefined;
let lib: TestLibrary;
const path = (name: string): string => join(lib.photos, name);
const id = (name: string): number => lib.row(path(name))!.id;
const shown = async (): Promise<string[]> => (await lib.engine.search({ sort: 'newest', limit: 100 })).hits.map((h) => h.photo.path).sort();

const LIVE_ID = 'A1B2C3D4-0000-4000-8000-000000000006';

/** Apple's maker note as iPhones write it: "Apple iOS", a version, "MM", and an IFD holding the ContentIdentifier (0x11). */
function appleMakerNote(contentId: string): Buffer {
  const head = Buffer.concat([Buffer.from('Apple iOS\0', 'latin1'), Buffer.from([0, 1]), Buffer.from('MM')]);
  const value = Buffer.from(`${contentId}\0`, 'latin1');
  const ifd = Buffer.alloc(2 + 12 + 4);
  ifd.writeUInt16BE(1, 0);
  ifd.writeUInt16BE(0x11, 2); // ContentIdentifier
  ifd.writeUInt16BE(2, 4); // ASCII
  ifd.writeUInt32BE(value.length, 6);
  ifd.writeUInt32BE(head.length + ifd.length, 10); // offsets count from the note's start
  return Buffer.concat([head, ifd, value]);
}

/** A JPEG with an EXIF block (APP1) holding an Apple maker note. */
async function iphoneJpeg(contentId: string): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 90, g: 30, b: 200 } } }).jpeg().toBuffer();
  const tiff = buildTiff([[[T.make, { ascii: 'Apple' }], [T.model, { ascii: 'iPhone 15' }], [T.exifIfd, { ifds: [[[0x927c, { bytes: appleMakerNote(contentId) }]]] }]]]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), app1, payload, jpeg.subarray(2)]);
}

async function cr2Like(colour: number): Promise<Buffer> {
  const full = await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: colour, g: 90, b: 40 } } }).jpeg().toBuffer();
  return buildTiff([[[T.make, { ascii: 'Canon' }], [T.jpegOffset, { offsetOf: full }], [T.jpegLength, { lengthOf: full }]]]);
}

beforeAll(async () => {
  lib = testLibrary();
  mkdirSync(lib.photos, { recursive: true });
  for (const [name, colour] of [['IMG_0001.JPG', 200], ['IMG_0002.jpg', 100], ['IMG_0003.JPG', 60]] as const) {
    await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: colour, g: 90, b: 40 } } }).jpeg().toFile(path(name));
  }
  writeFileSync(path('IMG_0001.CR2'), await cr2Like(201));
  writeFileSync(path('IMG_0003.CR2'), await cr2Like(61));
  writeFileSync(path('DSC_0004.NEF'), await cr2Like(20));
  if (FFMPEG) {
    // A Live Photo: the picture and its short movie, side by side.
    await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 10, g: 200, b: 90 } } }).jpeg().toFile(path('IMG_0005.JPG'));
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=10',
      '-pix_fmt', 'yuv420p', '-y', path('IMG_0005.MOV')], { stdio: 'pipe' });
    // A Live Photo renamed on export: only the content identifier says the two are one; and a movie of its own.
    writeFileSync(path('IMG_0006.JPG'), await iphoneJpeg(LIVE_ID));
    for (const [name, extra] of [['IMG_0006 (2).MOV', ['-metadata', `com.apple.quicktime.content.identifier=${LIVE_ID}`, '-movflags', 'use_metadata_tags']], ['trip.mov', []]] as const) {
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=1:size=160x120:rate=10',
        ...extra, '-pix_fmt', 'yuv420p', '-y', path(name)], { stdio: 'pipe' });
    }
  }
  await lib.engine.addFolder(lib.photos);
  await lib.engine.scan();
  expect((await lib.engine.index()).failed).toBe(0);
});

afterAll(async () => {
  await lib?.close();
});

describe('RAW+JPEG pairs', () => {
  it('are one photo in results, with both files on it', async () => {
    const live = FFMPEG ? [path('IMG_0005.JPG'), path('IMG_0006.JPG'), path('trip.mov')] : [];
    expect(await shown()).toEqual([path('DSC_0004.NEF'), path('IMG_0001.JPG'), path('IMG_0002.jpg'), path('IMG_0003.JPG'), ...live].sort());
    const one = (await lib.engine.getPhoto(id('IMG_0001.JPG')))!;
    expect(one.companions.map((c) => [c.path, c.format])).toEqual([[path('IMG_0001.CR2'), 'cr2']]);
    // A paired RAW is not a photo of its own, whatever the query; a RAW alone is.
    expect((await lib.engine.search({ filters: { formats: ['cr2'] } })).total).toBe(0);
    expect((await lib.engine.search({ filters: { formats: ['nef'] } })).total).toBe(1);
  });

  it.skipIf(!FFMPEG)('a Live Photo (a picture and a MOV of the same name) is one photo with both files', async () => {
    const p = (await lib.engine.getPhoto(id('IMG_0005.JPG')))!;
    expect(p.companions.map((c) => [c.path, c.format])).toEqual([[path('IMG_0005.MOV'), 'mov']]);
    expect((await lib.engine.search({ filters: { formats: ['mov'] } })).total).toBe(1); // trip.mov, a movie of its own
  });

  it.skipIf(!FFMPEG)('a Live Photo renamed on export is paired by the content identifier in both files', async () => {
    expect(lib.row(path('IMG_0006.JPG'))!.content_identifier).toBe(LIVE_ID);
    expect(lib.row(path('IMG_0006 (2).MOV'))!.content_identifier).toBe(LIVE_ID);
    const p = (await lib.engine.getPhoto(id('IMG_0006.JPG')))!;
    expect(p.companions.map((c) => c.path)).toEqual([path('IMG_0006 (2).MOV')]);
    expect(p.cameraModel).toBe('iPhone 15');
    expect(lib.row(path('trip.mov'))!.companion_of).toBeNull();
  });

  it('deleting the JPEG leaves the RAW as the photo, in the album the pair was in', async () => {
    const album = await lib.engine.createAlbum('Trip');
    await lib.engine.addToAlbum(album.id, [id('IMG_0001.JPG')]);
    rmSync(path('IMG_0001.JPG'));
    await lib.engine.scan();
    expect(await shown()).toContain(path('IMG_0001.CR2'));
    expect(await shown()).not.toContain(path('IMG_0001.JPG'));
    const inAlbum = (await lib.engine.albumPhotos(album.id)).hits.map((h) => h.photo.path);
    expect(inAlbum).toContain(path('IMG_0001.CR2'));
  });

  it('deleting the RAW leaves the JPEG as it was', async () => {
    rmSync(path('IMG_0003.CR2'));
    await lib.engine.scan();
    expect(await shown()).toContain(path('IMG_0003.JPG'));
    expect((await lib.engine.getPhoto(id('IMG_0003.JPG')))!.companions).toEqual([]);
  });
});
