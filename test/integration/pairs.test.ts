/**
 * RAW+JPEG pairs as cameras write them (IMG_0001.CR2 beside IMG_0001.JPG), built as real files,
 * and a Live Photo (IMG_0005.JPG beside IMG_0005.MOV, the movie made by ffmpeg): one photo in
 * results, both files on it; when the JPEG is deleted the RAW is the photo and keeps
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
    const live = FFMPEG ? [path('IMG_0005.JPG')] : [];
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
    expect((await lib.engine.search({ filters: { formats: ['mov'] } })).total).toBe(0);
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
