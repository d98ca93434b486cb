/**
 * A video's moments found by a sentence: a slideshow of three real photos (four seconds each) is
 * made by ffmpeg in the test; indexing samples frames through it (regular ones and the cuts
 * between photos), the synthetic CLIP pack embeds each with its time, and a sentence search
 * names the video and the moment. The stored frame vectors are checked against the frames' own
 * embeddings and against the photos the slideshow was made of; the video plays by byte range
 * through the HTTP bridge, from a checked file only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import sharp from 'sharp';
import { startBridge, type Bridge } from '../../main/bridge/http.js';
import { FRAME_CAP } from '../../main/ingest/video.js';
import { tempDir } from '../helpers/fixtures.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';
import { realOrGenerated } from '../helpers/shared.js';

const FFMPEG = spawnSync('ffmpeg', ['-version']).error === undefined;
const SOURCES = ['objects/darknet-dog.jpg', 'objects/darknet-giraffe.jpg', 'objects/skimage-coffee.png'];
const SEGMENT_MS = 4000;

const src = tempDir();
let lib: TestLibrary;
let bridge: Bridge;
let videoId = 0;
let videoPath = '';
/** The slideshow's pictures, as ffmpeg was given them (480×320). */
const slides: string[] = [];

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

interface FrameRow { idx: number; at_ms: number; scene: number; hash: string }
interface VectorRow { region: number; at_ms: number | null; data: Buffer }

function frames(): FrameRow[] {
  return lib.engine.internals.db.prepare(`SELECT f.idx, f.at_ms, f.scene, f.hash FROM video_frames f JOIN photos p ON p.hash = f.hash
    WHERE p.id = ? ORDER BY f.at_ms`).all(videoId) as FrameRow[];
}

function videoVectors(): { region: number; atMs: number | null; vector: Float32Array }[] {
  const rows = lib.engine.internals.db.prepare(`SELECT v.region, v.at_ms, v.data FROM vectors v JOIN contents c ON c.id = v.content_id
    JOIN photos p ON p.hash = c.hash WHERE p.id = ? AND v.space = 'clip.clip-a' ORDER BY v.region`).all(videoId) as VectorRow[];
  return rows.map((r) => ({ region: r.region, atMs: r.at_ms, vector: new Float32Array(r.data.buffer.slice(r.data.byteOffset, r.data.byteOffset + r.data.length)) }));
}

function http(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const url = new URL(bridge.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: url.port, path, headers: { Host: url.host, Authorization: `Bearer ${bridge.key}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!FFMPEG)('frames through a video (ffmpeg: apt-get install ffmpeg)', () => {
  beforeAll(async () => {
    const packs = writeTinyPacks(src.dir, 3);
    lib = testLibrary();
    mkdirSync(lib.photos, { recursive: true });
    for (const [i, s] of SOURCES.entries()) {
      const out = join(src.dir, `slide-${i}.png`);
      writeFileSync(out, await realOrGenerated(s, i, 480, 320));
      slides.push(out);
    }
    videoPath = join(lib.photos, 'slideshow.mp4');
    const inputs = slides.flatMap((s) => ['-loop', '1', '-t', String(SEGMENT_MS / 1000), '-framerate', '10', '-i', s]);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...inputs, '-filter_complex', '[0]setsar=1[a];[1]setsar=1[b];[2]setsar=1[c];[a][b][c]concat=n=3:v=1[v]', '-map', '[v]',
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-r', '10', '-y', videoPath], { stdio: 'pipe' });
    // A photo beside it, so the sentence has something else to find.
    await sharp(await realOrGenerated('scenes/kde-path.jpg', 9, 480, 320)).jpeg().toFile(join(lib.photos, 'path.jpg'));
    await lib.engine.importModel(packs.clip, { name: 'clip-a' });
    await lib.engine.addFolder(lib.photos);
    await lib.engine.scan();
    const s = await lib.engine.index();
    expect(s.failed).toBe(0);
    videoId = lib.row(videoPath)!.id;
    bridge = await startBridge(lib.engine, {});
  }, 180_000);

  afterAll(async () => {
    await bridge?.close();
    await lib?.close();
    src.cleanup();
  });

  it('samples frames regularly and at each cut, within the video and the cap', () => {
    const f = frames();
    expect(f.length).toBeGreaterThanOrEqual(3);
    expect(f.length).toBeLessThanOrEqual(FRAME_CAP);
    expect(f[0]!.at_ms).toBe(0);
    for (const x of f) expect(x.at_ms).toBeLessThan(3 * SEGMENT_MS);
    // The cuts between photos are found as cuts (within a frame, 100 ms at 10 fps).
    const cuts = f.filter((x) => x.scene === 1).map((x) => x.at_ms);
    expect(cuts).toHaveLength(2);
    expect(Math.abs(cuts[0]! - SEGMENT_MS)).toBeLessThanOrEqual(100);
    expect(Math.abs(cuts[1]! - 2 * SEGMENT_MS)).toBeLessThanOrEqual(100);
    // Every photo of the slideshow has a frame.
    for (let seg = 0; seg < 3; seg++) expect(f.some((x) => Math.floor(x.at_ms / SEGMENT_MS) === seg)).toBe(true);
  });

  it("stores one CLIP vector per frame, with its time, equal to the frame's own embedding and nearest its photo", async () => {
    const enc = await lib.engine.internals.encoders.clip('clip-a');
    const f = frames();
    const vs = videoVectors();
    // The poster, then every frame in order.
    expect(vs.map((v) => v.atMs)).toEqual([null, ...f.map((x) => x.at_ms)]);
    const thumbs = join(lib.root, 'library', 'thumbs');
    const own = await enc.embedImages(f.map((x) => join(thumbs, x.hash.slice(0, 2), `${x.hash}-f${x.idx}.jpg`)));
    const sources = await enc.embedImages(slides);
    f.forEach((x, i) => {
      const stored = vs[i + 1]!.vector;
      expect(dot(stored, own[i]!)).toBeGreaterThan(0.999);
      const seg = Math.floor(x.at_ms / SEGMENT_MS);
      const sims = sources.map((s) => dot(stored, s));
      expect(sims.indexOf(Math.max(...sims)), `frame at ${x.at_ms} ms`).toBe(seg);
    });
  });

  it('a sentence finds the moment: the hit names the video and the time of its best frame', async () => {
    const enc = await lib.engine.internals.encoders.clip('clip-a');
    const vs = videoVectors();
    const photo = lib.engine.internals.db.prepare(`SELECT v.data FROM vectors v JOIN contents c ON c.id = v.content_id
      JOIN photos p ON p.hash = c.hash WHERE p.path = ? AND v.space = 'clip.clip-a'`).get(join(lib.photos, 'path.jpg')) as { data: Buffer };
    const other = new Float32Array(photo.data.buffer.slice(photo.data.byteOffset, photo.data.byteOffset + photo.data.length));
    // Sentences (four words or more: used as they are) until one whose best match is a frame of
    // the second or third photo, clearly ahead of the other photos' frames, the poster and the
    // photo beside the video. (Frames of one photo are near-equal: which of them is reported is
    // up to the index's float16 storage, so the moment is checked to be in the right photo's time.)
    const segment = (atMs: number | null): number => (atMs === null ? 0 : Math.floor(atMs / SEGMENT_MS));
    let found: { text: string; segment: number; score: number } | null = null;
    for (let i = 0; i < 200 && !found; i++) {
      const text = `a picture of thing number ${i} in the film`;
      const [q] = await enc.embedTexts([text]);
      const scored = vs.map((v) => ({ atMs: v.atMs, s: dot(q!, v.vector) })).sort((a, b) => b.s - a.s);
      const best = scored[0]!;
      const rival = Math.max(dot(q!, other), ...scored.filter((x) => x.atMs === null || segment(x.atMs) !== segment(best.atMs)).map((x) => x.s));
      if (best.atMs === null || segment(best.atMs) === 0 || best.s - rival < 5e-3) continue;
      found = { text, segment: segment(best.atMs), score: best.s };
    }
    expect(found, 'a sentence whose best match is a later frame').not.toBeNull();
    const r = await lib.engine.search({ text: found!.text, limit: 10 });
    expect(r.hits[0]!.photo.id).toBe(videoId);
    const at = r.hits[0]!.atMs;
    expect(at).not.toBeNull();
    expect(frames().map((x) => x.at_ms)).toContain(at);
    expect(segment(at)).toBe(found!.segment);
    expect(r.hits[0]!.score).toBeCloseTo(found!.score, 2);
    // The photo beside it is a picture: no moment.
    expect(r.hits.find((h) => h.photo.id !== videoId)?.atMs ?? null).toBeNull();
    // What the hit shows: the frame of that moment.
    const m = await lib.engine.media(`frame/${videoId}/${at! + 20}`);
    const idx = frames().find((x) => x.at_ms === at)!.idx;
    expect(m.kind === 'file' && m.path.endsWith(`-f${idx}.jpg`)).toBe(true);
  });

  it('plays through the bridge by byte range, and only the indexed file', async () => {
    const bytes = readFileSync(videoPath);
    const whole = await http(`/media/video/${videoId}`);
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toBe('video/mp4');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.body.equals(bytes)).toBe(true);
    const part = await http(`/media/video/${videoId}`, { Range: 'bytes=100-1099' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-1099/${bytes.length}`);
    expect(part.body.equals(bytes.subarray(100, 1100))).toBe(true);
    const tail = await http(`/media/video/${videoId}`, { Range: 'bytes=-10' });
    expect(tail.body.equals(bytes.subarray(bytes.length - 10))).toBe(true);
    expect((await http(`/media/video/${videoId}`, { Range: `bytes=${bytes.length}-` })).status).toBe(416);
    // A photo is not a video.
    expect((await http(`/media/video/${lib.row(join(lib.photos, 'path.jpg'))!.id}`)).status).toBe(404);
    // Replaced by a link to another file: not served.
    rmSync(videoPath);
    symlinkSync(join(lib.photos, 'path.jpg'), videoPath);
    expect((await http(`/media/video/${videoId}`)).status).toBe(404);
  });
});
