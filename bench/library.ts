/**
 * npm run bench:library — prints the figures the foundation issue targets:
 *  - cold scan of a generated 100,000-file tree (target < 10 s)
 *  - warm re-scan of the same unchanged tree (target < 3 s)
 *  - thumbnails + metadata of 12-megapixel JPEGs (target ≥ 40 images/s on 2 cores)
 *  - HEIC (libheif) and RAW (embedded preview) rates against JPEG of the same pictures
 * Generated inputs are cached under .bench/ (git-ignored); libraries are throw-away.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Engine } from '../main/engine/engine.js';
import { decodePhoto } from '../main/ingest/decoder.js';
import { rawPreview } from '../main/ingest/raw.js';
import { findFfmpeg } from '../main/ingest/video.js';
import { RENDITIONS } from '../main/ingest/thumbnails.js';
import { buildTiff, T } from '../test/helpers/tiff.js';

const ROOT = join(process.cwd(), '.bench');
const TREE = join(ROOT, 'tree-100k');
const BIG = join(ROOT, 'jpeg-12mp');
const FILES = Number(process.env['BENCH_FILES'] ?? 100_000);
const BIG_COUNT = Number(process.env['BENCH_BIG'] ?? 48);

function makeTree(): void {
  const marker = join(TREE, `.complete-${FILES}`);
  if (existsSync(marker)) return;
  rmSync(TREE, { recursive: true, force: true });
  const perDir = 100;
  const tiny = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
  for (let i = 0; i < FILES; i++) {
    const d = Math.floor(i / perDir);
    const dir = join(TREE, `y${2000 + (d % 20)}`, `d${d}`);
    if (i % perDir === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `IMG_${String(i).padStart(6, '0')}.jpg`), tiny);
  }
  writeFileSync(marker, '');
}

async function makeBig(): Promise<void> {
  mkdirSync(BIG, { recursive: true });
  for (let i = 0; i < BIG_COUNT; i++) {
    const file = join(BIG, `big-${i}.jpg`);
    if (existsSync(file)) continue;
    // Blurred noise over a gradient: compresses like a real photo (a few MB at 12 MP), not like a flat fill.
    const noise = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120 + i, sigma: 50 } } })
      .blur(1.2).raw().toBuffer();
    await sharp(noise, { raw: { width: 4000, height: 3000, channels: 3 } })
      .withExif({ IFD0: { Make: 'Bench', Model: `Cam ${i}` }, IFD2: { DateTimeOriginal: '2024:06:01 12:00:00', OffsetTimeOriginal: '+01:00' } })
      .jpeg({ quality: 90 }).toFile(file);
  }
}

/** Photos decoded (thumbnails made) per second, one at a time, for the same pictures in each format. */
async function rate(bufs: readonly Buffer[], raw?: string): Promise<number> {
  const t = performance.now();
  for (const b of bufs) await decodePhoto(b, RENDITIONS, raw ? { raw } : {});
  return bufs.length / ((performance.now() - t) / 1000);
}

/** HEIC (libheif in WebAssembly) and RAW (embedded preview) against JPEG of the same 12 MP pictures. */
async function formatRates(): Promise<string[]> {
  const n = Math.min(BIG_COUNT, 8);
  const jpegs = Array.from({ length: n }, (_, i) => readFileSync(join(BIG, `big-${i}.jpg`)));
  const rows: string[] = [];
  const jpegRate = await rate(jpegs);
  rows.push(`| JPEG, 12 MP, one at a time (the reference for the two below) | ${fmt(jpegRate, 1)} images/s | |`);
  if (spawnSync('heif-enc', ['--help']).error === undefined) {
    const dir = join(ROOT, 'heic-12mp');
    mkdirSync(dir, { recursive: true });
    const heics = jpegs.map((_, i) => {
      const f = join(dir, `big-${i}.heic`);
      if (!existsSync(f)) execFileSync('heif-enc', ['-q', '80', join(BIG, `big-${i}.jpg`), '-o', f], { stdio: 'pipe' });
      return readFileSync(f);
    });
    const heicRate = await rate(heics);
    rows.push(`| HEIC (HEVC), 12 MP, decode + thumbnails through libheif (WebAssembly) | ${fmt(heicRate, 2)} images/s (${fmt(jpegRate / heicRate, 1)}× the JPEG time) | |`);
  } else rows.push('| HEIC | skipped: no heif-enc to make test files (apt-get install libheif-examples) | |');
  const dngs = jpegs.map((j) => buildTiff([[[T.make, { ascii: 'Bench' }], [T.orientation, { short: [1] }],
    [T.subIfds, { ifds: [[[T.newSubfileType, { long: [1] }], [T.compression, { short: [7] }], [T.stripOffsets, { offsetOf: j }], [T.stripByteCounts, { lengthOf: j }]]] }]]]));
  const t = performance.now();
  for (let k = 0; k < 20; k++) for (const d of dngs) rawPreview(d);
  const extract = (20 * dngs.length) / ((performance.now() - t) / 1000);
  const rawRate = await rate(dngs, 'dng');
  rows.push(`| RAW (DNG with a 12 MP preview): preview found | ${fmt(extract, 0)} files/s | |`);
  rows.push(`| RAW (DNG with a 12 MP preview): preview decoded + thumbnails | ${fmt(rawRate, 1)} images/s | |`);
  rows.push(await videoRate());
  return rows;
}

/**
 * Seconds of video indexed per second: read and hashed as a stream, described and given a poster
 * by ffmpeg, thumbnails, and frames sampled through each clip (every frame decoded for the cuts).
 */
async function videoRate(): Promise<string> {
  if (!findFfmpeg()) return '| video | skipped: no ffmpeg (apt-get install ffmpeg) | |';
  const short = await videoRun('video-1080p', 4, 30);
  const long = await videoRun('video-1080p-long', 1, 90);
  return `${short}\n${long}`;
}

/** Indexes `count` 1080p clips of `seconds` each (made once by ffmpeg), and says how many seconds of video went by per second. */
async function videoRun(name: string, count: number, seconds: number): Promise<string> {
  const dir = join(ROOT, name);
  mkdirSync(dir, { recursive: true });
  const files = Array.from({ length: count }, (_, i) => {
    const f = join(dir, `clip-${i}.mp4`);
    if (!existsSync(f)) {
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=duration=${seconds}:size=1920x1080:rate=30,hue=h=${i * 40}`,
        '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-y', f], { stdio: 'pipe' });
    }
    return f;
  });
  const lib = join(ROOT, `lib-${name}`);
  rmSync(lib, { recursive: true, force: true });
  const e = Engine.open({ libraryDir: lib });
  try {
    await e.addFolder(dir);
    await e.scan();
    const t = performance.now();
    const s = await e.index();
    const took = (performance.now() - t) / 1000;
    if (s.ok !== files.length) throw new Error(`expected ${files.length} videos indexed, got ${JSON.stringify(s)}`);
    const frames = (e.internals.db.prepare('SELECT count(*) AS n FROM video_frames').get() as { n: number }).n;
    const how = seconds > 60 ? 'keyframes only' : 'every frame decoded';
    return `| video, 1080p H.264 (${count} × ${seconds} s): read + hash + describe + poster + thumbnails + ${frames} frames (${how}) `
      + `| ${fmt((files.length * seconds) / took, 1)} s of video per second | |`;
  } finally {
    await e.close();
    rmSync(lib, { recursive: true, force: true });
  }
}

function dropCaches(): boolean {
  try { writeFileSync('/proc/sys/vm/drop_caches', '3'); return true; } catch { return false; }
}

function fmt(n: number, d = 2): string { return n.toFixed(d); }

async function main(): Promise<void> {
  console.log(`Loupe bench:library — ${availableParallelism()} cores, node ${process.version}, libvips ${sharp.versions.vips}`);
  mkdirSync(ROOT, { recursive: true });
  let t = performance.now();
  makeTree();
  console.log(`tree: ${FILES.toLocaleString()} files ready (${fmt((performance.now() - t) / 1000, 1)} s to generate or reuse)`);

  const libDir = join(ROOT, 'lib-scan');
  rmSync(libDir, { recursive: true, force: true });
  const engine = Engine.open({ libraryDir: libDir });
  await engine.addFolder(TREE);
  const dropped = dropCaches();
  t = performance.now();
  const cold = await engine.scan();
  const coldS = (performance.now() - t) / 1000;
  t = performance.now();
  const warm = await engine.scan();
  const warmS = (performance.now() - t) / 1000;
  engine.close();

  await makeBig();
  const results: { conc: number; rate: number; rss: number }[] = [];
  for (const conc of [2, 3, 4]) {
    const dir = join(ROOT, `lib-big-${conc}`);
    rmSync(dir, { recursive: true, force: true });
    const e = Engine.open({ libraryDir: dir, concurrency: conc });
    await e.addFolder(BIG);
    await e.scan();
    t = performance.now();
    const s = await e.index();
    const secs = (performance.now() - t) / 1000;
    if (s.ok !== BIG_COUNT) throw new Error(`expected ${BIG_COUNT} ok, got ${JSON.stringify(s)}`);
    results.push({ conc, rate: s.ok / secs, rss: process.resourceUsage().maxRSS / 1024 });
    e.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // The floor under any thumbnailer: JPEG entropy decoding, at 1/8 scale, nothing else.
  const files = readdirSync(BIG).map((f) => join(BIG, f));
  let next = 0;
  t = performance.now();
  await Promise.all(Array.from({ length: availableParallelism() + 1 }, async () => {
    while (next < files.length) await sharp(files[next++]!).resize(256, 256, { fit: 'inside' }).raw().toBuffer();
  }));
  const ceiling = files.length / ((performance.now() - t) / 1000);

  // A burst: 5,000 photos copied into a watched folder at once.
  const burstLib = join(ROOT, 'lib-burst');
  const burstDir = join(ROOT, 'burst');
  rmSync(burstLib, { recursive: true, force: true });
  rmSync(burstDir, { recursive: true, force: true });
  mkdirSync(burstDir);
  const be = Engine.open({ libraryDir: burstLib });
  await be.addFolder(burstDir);
  let batches = 0;
  be.on((ev) => { if (ev.type === 'indexed') batches++; });
  const watcher = await be.watch();
  const sources = await Promise.all(Array.from({ length: 100 }, (_, i) =>
    sharp({ create: { width: 320, height: 240, channels: 3, background: { r: i * 2, g: 90, b: 200 - i } } }).jpeg().toBuffer()));
  t = performance.now();
  for (let i = 0; i < 5000; i++) writeFileSync(join(burstDir, `copy-${i}.jpg`), sources[i % sources.length]!);
  const copyS = (performance.now() - t) / 1000;
  const okCount = (): number => (be.internals.db.prepare(`SELECT COUNT(*) AS n FROM photos WHERE state = 'ok'`).get() as { n: number }).n;
  while (okCount() < 5000) await new Promise((r) => setTimeout(r, 100));
  const burstS = (performance.now() - t) / 1000;
  await watcher.close();
  be.close();
  rmSync(burstLib, { recursive: true, force: true });
  rmSync(burstDir, { recursive: true, force: true });

  const formats = await formatRates();

  console.log('');
  console.log('| measure | result | target |');
  console.log('| --- | --- | --- |');
  console.log(`| cold scan, ${cold.seen.toLocaleString()} files (fresh library${dropped ? ', page cache dropped' : ', page cache warm'}) | ${fmt(coldS)} s | < 10 s |`);
  console.log(`| warm re-scan, unchanged (${warm.changed} changed, ${warm.added} added) | ${fmt(warmS)} s | < 3 s |`);
  for (const r of results) {
    console.log(`| thumbnails + metadata, ${files.length} × 12 MP JPEG, ${r.conc} at once | ${fmt(r.rate, 1)} images/s (peak RSS ${fmt(r.rss, 0)} MiB) | ≥ 40 images/s |`);
  }
  console.log(`| watcher: 5,000 photos copied in (${fmt(copyS, 1)} s) until all indexed | ${fmt(burstS, 1)} s in ${batches} index batches | batched |`);
  console.log(`| ceiling: JPEG decode alone at 1/8 scale, nothing written | ${fmt(ceiling, 1)} images/s | (for reference) |`);
  for (const r of formats) console.log(r);
  rmSync(libDir, { recursive: true, force: true });
}

await main();
