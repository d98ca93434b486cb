/**
 * Videos made in the test by ffmpeg (its testsrc pattern), with the creation time and ISO 6709
 * place phones write, and a phone's 90° rotation: indexed with length, date, place, size as
 * displayed and a poster thumbnail; a file that is not a video, and a machine without ffmpeg,
 * give a reason and nothing else stops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { parseIso6709 } from '../../main/ingest/video.js';
import { tempDir } from '../helpers/fixtures.js';
import { runCli } from '../helpers/cli.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';

const FFMPEG = spawnSync('ffmpeg', ['-version']).error === undefined;
let lib: TestLibrary;

/** Turns a QuickTime/MP4 file's video track a quarter (its tkhd matrix), as a phone held upright records. */
function rotateQuarter(path: string): void {
  const b = readFileSync(path);
  const at = b.indexOf(Buffer.from('tkhd'));
  const v1 = b[at + 4] === 1;
  const matrix = at + 8 + (v1 ? 32 : 20) + 8 + 8;
  b.writeInt32BE(0, matrix);
  b.writeInt32BE(0x10000, matrix + 4);
  b.writeInt32BE(-0x10000, matrix + 12);
  b.writeInt32BE(0, matrix + 16);
  writeFileSync(path, b);
}

function makeVideo(path: string, args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=3:size=320x240:rate=10',
    ...args, '-pix_fmt', 'yuv420p', '-y', path], { stdio: 'pipe' });
}

describe('ISO 6709 places', () => {
  it('reads latitude and longitude as phones write them, and refuses what is not a place', () => {
    expect(parseIso6709('+38.7139-009.1394/')).toEqual({ lat: 38.7139, lon: -9.1394 });
    expect(parseIso6709('-33.8688+151.2093+012.000/')).toEqual({ lat: -33.8688, lon: 151.2093 });
    expect(parseIso6709('+0000+00000/')).toBeNull();
    expect(parseIso6709('nowhere')).toBeNull();
  });
});

describe.skipIf(!FFMPEG)('videos (ffmpeg: apt-get install ffmpeg)', () => {
  beforeAll(async () => {
    lib = testLibrary();
    mkdirSync(lib.photos, { recursive: true });
    makeVideo(join(lib.photos, 'clip.mp4'), ['-metadata', 'creation_time=2024-05-06T07:08:09Z', '-metadata', 'location=+38.7139-009.1394/', '-movflags', 'use_metadata_tags']);
    makeVideo(join(lib.photos, 'portrait.mov'), []);
    rotateQuarter(join(lib.photos, 'portrait.mov'));
    writeFileSync(join(lib.photos, 'broken.mp4'), Buffer.from('this is not a video, just text in a file called .mp4'));
    await indexPhotos(lib);
  });

  afterAll(async () => {
    await lib?.close();
  });

  it('indexes a video with its length, date, place and a poster', async () => {
    const row = lib.row(join(lib.photos, 'clip.mp4'))!;
    expect(row).toMatchObject({ state: 'ok', format: 'mp4', width: 320, height: 240, duration_ms: 3000, taken_at: '2024-05-06T07:08:09Z', taken_at_source: 'exif' });
    expect(row.gps_lat).toBeCloseTo(38.7139, 4);
    expect(row.gps_lon).toBeCloseTo(-9.1394, 4);
    const page = await lib.engine.search({ filters: { formats: ['mp4'] } });
    expect(page.hits.map((h) => h.photo.durationMs)).toEqual([3000]);
    const thumb = await lib.engine.media(`thumb/${row.id}/256`);
    expect(thumb.type).toBe('image/jpeg');
    // Its large picture is the poster.
    expect((await lib.engine.media(`photo/${row.id}`)).type).toBe('image/jpeg');
  });

  it('gives a rotated phone video its size, and its poster, as displayed', async () => {
    const row = lib.row(join(lib.photos, 'portrait.mov'))!;
    expect(row).toMatchObject({ state: 'ok', format: 'mov', width: 240, height: 320 });
    const thumb = await lib.engine.media(`thumb/${row.id}/256`);
    const meta = await sharp(thumb.kind === 'bytes' ? thumb.data : readFileSync(thumb.path)).metadata();
    expect(meta.height).toBeGreaterThan(meta.width!);
  });

  it('records a file that is not a video with the reason', () => {
    expect(lib.row(join(lib.photos, 'broken.mp4'))).toMatchObject({ state: 'error', error: expect.stringMatching(/ffmpeg cannot read this video/) });
  });
});

describe('without ffmpeg', () => {
  it('records videos as unreadable with what to install, indexes the photos, and says so in status', async () => {
    const t = tempDir();
    try {
      const photos = join(t.dir, 'photos');
      mkdirSync(photos, { recursive: true });
      writeFileSync(join(photos, 'clip.mp4'), Buffer.alloc(1000, 1));
      const lib = ['--library', join(t.dir, 'lib')];
      const env = { LOUPE_FFMPEG: join(t.dir, 'no-ffmpeg-here') };
      await runCli([...lib, 'add-folder', photos], { env });
      expect((await runCli([...lib, 'index'], { env })).code).toBe(0);
      const status = await runCli([...lib, 'status'], { env });
      expect(status.stdout).toMatch(/clip\.mp4\n\s+videos need ffmpeg, which this machine does not have: install it/);
      expect(status.stdout).toMatch(/✗ Videos .*videos need ffmpeg/);
    } finally {
      t.cleanup();
    }
  });
});
