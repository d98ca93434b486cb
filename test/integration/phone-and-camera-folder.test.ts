/**
 * Issue 19's whole folder, as a phone and a camera leave it: an iPhone HEIC (made by heif-enc
 * from a real photo, with its EXIF), a DNG, a RAW+JPEG pair, a Live Photo (JPEG + MOV), an MP4
 * slideshow of real photos, and a JPEG with a Lightroom sidecar. Every file is readable; each
 * shows in search with its date, camera and keywords; the MP4's moment is found by a sentence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { PhotoRecord } from '../../main/contract/api.js';
import { tempDir } from '../helpers/fixtures.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';
import { buildTiff, T } from '../helpers/tiff.js';
import { realOrGenerated } from '../helpers/shared.js';

const TOOLS = spawnSync('heif-enc', ['--help']).error === undefined && spawnSync('ffmpeg', ['-version']).error === undefined;
const src = tempDir();
let lib: TestLibrary;
const path = (name: string): string => join(lib.photos, name);

let seeds = 0;
async function cameraJpeg(source: string, make: string, model: string, date: string): Promise<Buffer> {
  const picture = await realOrGenerated(source, seeds++, 800, 533);
  return sharp(picture).withExif({ IFD0: { Make: make, Model: model }, IFD2: { DateTimeOriginal: date } }).jpeg().toBuffer();
}

/** A RAW laid out as a CR2/NEF is: IFD0 with the camera, a JPEG preview, the EXIF IFD with the date. */
function rawAround(preview: Buffer, make: string, model: string, date: string): Buffer {
  return buildTiff([[[T.make, { ascii: make }], [T.model, { ascii: model }], [T.jpegOffset, { offsetOf: preview }], [T.jpegLength, { lengthOf: preview }],
    [T.exifIfd, { ifds: [[[T.dateTimeOriginal, { ascii: date }]]] }]]]);
}

describe.skipIf(!TOOLS)('a folder of everything a phone and a camera make (heif-enc and ffmpeg)', () => {
  beforeAll(async () => {
    lib = testLibrary();
    mkdirSync(lib.photos, { recursive: true });
    // iPhone HEIC: heif-enc keeps the JPEG's EXIF.
    const heicSource = join(src.dir, 'iphone.jpg');
    writeFileSync(heicSource, await cameraJpeg('scenes/kde-bythewater.jpg', 'Apple', 'iPhone 15 Pro', '2024:07:01 18:30:00'));
    execFileSync('heif-enc', ['-q', '80', heicSource, '-o', path('IMG_0001.HEIC')], { stdio: 'pipe' });
    // A DNG whose preview is a real photo.
    const dngPreview = await sharp(await realOrGenerated('scenes/kde-path.jpg', 20, 1000, 667)).jpeg().toBuffer();
    writeFileSync(path('L1000002.DNG'), buildTiff([[[T.make, { ascii: 'Leica Camera AG' }], [T.model, { ascii: 'LEICA Q3' }],
      [T.dngVersion, { bytes: Buffer.from([1, 4, 0, 0]) }],
      [T.subIfds, { ifds: [[[T.newSubfileType, { long: [1] }], [T.compression, { short: [7] }], [T.stripOffsets, { offsetOf: dngPreview }], [T.stripByteCounts, { lengthOf: dngPreview }]]] }],
      [T.exifIfd, { ifds: [[[T.dateTimeOriginal, { ascii: '2024:06:02 09:00:00' }]]] }]]]));
    // RAW+JPEG: the camera's JPEG and the RAW around the same picture.
    const pairJpeg = await cameraJpeg('objects/darknet-horses.jpg', 'Canon', 'Canon EOS R5', '2024:05:03 10:00:00');
    writeFileSync(path('IMG_0003.JPG'), pairJpeg);
    writeFileSync(path('IMG_0003.CR2'), rawAround(pairJpeg, 'Canon', 'Canon EOS R5', '2024:05:03 10:00:00'));
    // Live Photo: the picture and its movie.
    writeFileSync(path('IMG_0004.JPG'), await cameraJpeg('objects/darknet-kite.jpg', 'Apple', 'iPhone 15 Pro', '2024:04:04 12:00:00'));
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-loop', '1', '-t', '2', '-framerate', '10', '-i', path('IMG_0004.JPG'),
      '-vf', 'scale=320:-2', '-pix_fmt', 'yuv420p', '-y', path('IMG_0004.MOV')], { stdio: 'pipe' });
    // An MP4: three real photos, four seconds each, with the date a phone writes.
    const slides = ['objects/darknet-dog.jpg', 'objects/darknet-giraffe.jpg', 'objects/skimage-coffee.png'];
    const pngs = await Promise.all(slides.map(async (s, i) => {
      const out = join(src.dir, `slide-${i}.png`);
      writeFileSync(out, await realOrGenerated(s, 30 + i, 480, 320));
      return out;
    }));
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...pngs.flatMap((p) => ['-loop', '1', '-t', '4', '-framerate', '10', '-i', p]),
      '-filter_complex', '[0]setsar=1[a];[1]setsar=1[b];[2]setsar=1[c];[a][b][c]concat=n=3:v=1[v]', '-map', '[v]', '-c:v', 'libx264', '-pix_fmt', 'yuv420p',
      '-metadata', 'creation_time=2024-03-05T16:00:00Z', '-y', path('VID_0005.mp4')], { stdio: 'pipe' });
    // A JPEG with a Lightroom sidecar.
    writeFileSync(path('DSC_0006.jpg'), await cameraJpeg('scenes/kde-colorfulcups.jpg', 'NIKON CORPORATION', 'NIKON Z 6', '2024:02:06 08:00:00'));
    writeFileSync(path('DSC_0006.xmp'), `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5">
<dc:subject><rdf:Bag><rdf:li>cups</rdf:li><rdf:li>kitchen</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>`);
    await lib.engine.importModel(writeTinyPacks(src.dir, 3).clip, { name: 'clip' });
    await lib.engine.addFolder(lib.photos);
    await lib.engine.scan();
    expect((await lib.engine.index()).failed).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await lib?.close();
    src.cleanup();
  });

  it('reads every file, and shows each photo once with its date, camera and keywords', async () => {
    expect(lib.rows().map((r) => [r.path.slice(lib.photos.length + 1), r.state, r.error])).toEqual(
      ['DSC_0006.jpg', 'IMG_0001.HEIC', 'IMG_0003.CR2', 'IMG_0003.JPG', 'IMG_0004.JPG', 'IMG_0004.MOV', 'L1000002.DNG', 'VID_0005.mp4']
        .map((n) => [n, 'ok', null]));
    const all = await lib.engine.search({ sort: 'newest', limit: 100 });
    const seen = (p: PhotoRecord): [string, string | null, string | null, string | null] =>
      [p.path.slice(lib.photos.length + 1), p.takenAt, p.cameraMake, p.cameraModel];
    // The pair's RAW and the Live Photo's movie are not photos of their own.
    expect(all.hits.map((h) => seen(h.photo))).toEqual([
      ['IMG_0001.HEIC', '2024-07-01T18:30:00', 'Apple', 'iPhone 15 Pro'],
      ['L1000002.DNG', '2024-06-02T09:00:00', 'Leica Camera AG', 'LEICA Q3'],
      ['IMG_0003.JPG', '2024-05-03T10:00:00', 'Canon', 'Canon EOS R5'],
      ['IMG_0004.JPG', '2024-04-04T12:00:00', 'Apple', 'iPhone 15 Pro'],
      ['VID_0005.mp4', '2024-03-05T16:00:00.000000Z', null, null],
      ['DSC_0006.jpg', '2024-02-06T08:00:00', 'NIKON CORPORATION', 'NIKON Z 6'],
    ]);
    const byName = (n: string): number => all.hits.find((h) => h.photo.path === path(n))!.photo.id;
    expect((await lib.engine.getPhoto(byName('IMG_0003.JPG')))!.companions.map((c) => c.path)).toEqual([path('IMG_0003.CR2')]);
    expect((await lib.engine.getPhoto(byName('IMG_0004.JPG')))!.companions.map((c) => c.path)).toEqual([path('IMG_0004.MOV')]);
    const cups = (await lib.engine.getPhoto(byName('DSC_0006.jpg')))!;
    expect([...cups.keywords].sort()).toEqual(['cups', 'kitchen']);
    expect(cups.rating).toBe(5);
    expect((await lib.engine.search({ text: 'kitchen' })).hits[0]!.photo.path).toBe(path('DSC_0006.jpg'));
    expect(all.hits.find((h) => h.photo.path === path('VID_0005.mp4'))!.photo.durationMs).toBe(12_000);
  });

  it("finds the MP4's moment by a sentence: the hit names the video and a time within the photo that matched", async () => {
    const enc = await lib.engine.internals.encoders.clip('clip');
    const video = lib.row(path('VID_0005.mp4'))!;
    const frames = lib.engine.internals.db.prepare(`SELECT v.at_ms, v.data FROM vectors v JOIN contents c ON c.id = v.content_id
      WHERE c.hash = ? AND v.region > 0 ORDER BY v.at_ms`).all(video.hash) as { at_ms: number; data: Buffer }[];
    expect(frames.length).toBeGreaterThanOrEqual(3);
    const poster = lib.engine.internals.db.prepare(`SELECT v.data FROM vectors v JOIN contents c ON c.id = v.content_id
      WHERE c.hash = ? AND v.region = 0`).get(video.hash) as { data: Buffer };
    const f32 = (b: Buffer): Float32Array => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
    // A sentence whose best match among the video's vectors, by a margin, is a frame of its second
    // or third photo (the synthetic pack's sentences mean nothing, so the search is narrowed to
    // videos: what is checked is that the moment comes back, not what the model understands).
    for (let i = 0; i < 300; i++) {
      const text = `the moment number ${i} of the holiday`;
      const [q] = await enc.embedTexts([text]);
      const best = frames.map((f) => ({ at: f.at_ms, s: dot(q!, f32(f.data)) })).sort((a, b) => b.s - a.s)[0]!;
      const segment = Math.floor(best.at / 4000);
      const rivals = [dot(q!, f32(poster.data)), ...frames.filter((f) => Math.floor(f.at_ms / 4000) !== segment).map((f) => dot(q!, f32(f.data)))];
      if (segment === 0 || best.s - Math.max(...rivals) < 5e-3) continue;
      const hit = (await lib.engine.search({ text, limit: 3, filters: { formats: ['mp4'] } })).hits[0]!;
      expect(hit.photo.path).toBe(path('VID_0005.mp4'));
      expect(Math.floor(hit.atMs! / 4000)).toBe(segment);
      return;
    }
    throw new Error('no sentence found whose best match is a later frame');
  });
});
