/**
 * npm run bench:search — query latency at library scale (default 100,000 photos):
 *  - sentence query end to end (parse, tokenize, full-size ViT-B/32 text encoder with random
 *    weights, IVF-PQ search, SQLite rows): p50 / p99, target p50 < 60 ms; short queries run the
 *    4-template prompt ensemble, long ones a single sentence;
 *  - photo query ("more like this": stored vector, search, rows) p50 / p99, and the same with
 *    average query expansion;
 *  - teaching a category from 5 examples (train + score every picture);
 *  - "same object" photo query and region query in a whitened CNN space holding every picture's
 *    global descriptor and its R-MAC regional ones (≈ 20 vectors per picture), the region's crop
 *    run through a ResNet-50-class CNN (random weights, same stride and about the same FLOPs).
 * The library is real (SQLite file, index files) but its photos are rows without files (a few
 * query photos excepted) and their vectors come from a seeded mixture, so it builds in minutes;
 * only latency is measured.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { toBlob } from '../main/db/blobs.js';
import { rmacRegions } from '../main/encoders/pooling.js';
import { Engine } from '../main/engine/engine.js';
import { gaussian, rng } from '../main/index/random.js';
import { writeCnnPack, type CnnConfig } from '../models/synthetic.js';
import { Mixture } from '../test/helpers/vectors.js';

const N = Number(process.env['BENCH_PHOTOS'] ?? 100_000);
const ROOT = join(process.cwd(), '.bench', 'search');
const PACK_SRC = join(process.cwd(), '.bench', 'encode', 'vit-b32-random-v2');
const ENCODE_BENCH = fileURLToPath(new URL('./encode.ts', import.meta.url));
/** Stride 32 like ResNet-50, 3×3 convolutions: ≈ 17 GMAC at 512 × 512 (ResNet-50 at 512 px: ≈ 21). */
const CNN_BENCH: CnnConfig = { imageSize: 512, channels: [64, 256, 512, 1024, 2048], classes: 1000 };
const CNN_PACK_SRC = join(ROOT, 'cnn-rn50-class-v1');
const CNN_RAW = 'cnn.rn50';
const CNN_SPACE = `${CNN_RAW}.w1`;
const CNN_DIM = 512;
/** Query photos that get real files (region search crops their pictures). */
const QUERY_PHOTOS = 20;

const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const fmt = (n: number, d = 1): string => n.toFixed(d);

async function build(engine: Engine, dim: number): Promise<void> {
  const db = engine.internals.db;
  mkdirSync(join(ROOT, 'photos'), { recursive: true });
  const folder = (await engine.addFolder(join(ROOT, 'photos'))).id;
  const mix = new Mixture({ d: dim, seed: 7, topics: 200, subtopicsPerTopic: 50, topicSpread: 0.6, pointSpread: 0.35 });
  const now = Date.now();
  const insPhoto = db.prepare(`INSERT INTO photos (folder_id, path, size, mtime_ms, hash, format, width, height, taken_at_ms, camera_make, state, added_at, indexed_at)
    VALUES (?, ?, 1000, 0, ?, 'jpeg', 4000, 3000, ?, ?, 'ok', ?, ?)`);
  const space = 'clip.vit-b32';
  const batch = 10_000;
  for (let start = 0; start < N; start += batch) {
    const n = Math.min(batch, N - start);
    const vecs = mix.sample(n, start);
    db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const k = start + i;
        const hash = k.toString(16).padStart(64, '0');
        insPhoto.run(folder, join(ROOT, 'photos', `${Math.floor(k / 1000)}`, `IMG_${k}.jpg`), hash, Date.UTC(2015, 0, 1) + k * 3_600_000, k % 3 ? 'Canon' : 'Nikon', now, now);
        engine.internals.repos.vectors.put(space, hash, [{ region: 0, box: null, vector: vecs.subarray(i * dim, (i + 1) * dim) }]);
      }
    })();
  }
  engine.internals.spaces.setServing('clip', space);
  const index = await engine.internals.indexes.get(space, dim);
  await index.maintain();
  console.log(`  index: ${index.size} vectors, ${index.isFlat ? 'flat' : `IVF-PQ, ${index.nlist} lists`}`);
}

/**
 * The CNN side: a whitening (2048 → 512, random projection) and a whitened space with each
 * picture's global descriptor and regional ones, boxes laid out as R-MAC lays them on a 4:3 map.
 */
async function buildCnn(engine: Engine): Promise<void> {
  const db = engine.internals.db;
  const r = rng(11);
  const inDim = CNN_BENCH.channels.at(-1)!;
  const projection = new Float32Array(CNN_DIM * inDim).map(() => gaussian(r) / Math.sqrt(inDim));
  db.prepare(`INSERT INTO whitenings (space, raw_space, version, input_dim, output_dim, mean, projection, eigenvalues, pictures, vectors, created_at)
    VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)`).run(CNN_SPACE, CNN_RAW, inDim, CNN_DIM, toBlob(new Float32Array(inDim)), toBlob(projection),
    toBlob(new Float64Array(CNN_DIM).fill(1)), N, N, Date.now());
  const grid = rmacRegions(16, 12);
  const boxes = grid.map((g) => ({ x: g.x / 16, y: g.y / 12, w: g.w / 16, h: g.h / 12 }));
  const per = 1 + boxes.length;
  const mix = new Mixture({ d: CNN_DIM, seed: 13, topics: 200, subtopicsPerTopic: 50, topicSpread: 0.6, pointSpread: 0.35 });
  const batch = 2_000;
  for (let start = 0; start < N; start += batch) {
    const n = Math.min(batch, N - start);
    const vecs = mix.sample(n * per, start);
    db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const hash = (start + i).toString(16).padStart(64, '0');
        const v = (j: number): Float32Array => vecs.subarray((i * per + j) * CNN_DIM, (i * per + j + 1) * CNN_DIM);
        engine.internals.repos.vectors.put(CNN_SPACE, hash, [
          { region: 0, box: { x: 0, y: 0, w: 1, h: 1 }, vector: v(0) },
          ...boxes.map((box, j) => ({ region: j + 1, box, vector: v(j + 1) })),
        ]);
      }
    })();
  }
  engine.internals.spaces.setServing('cnn', CNN_SPACE);
  const index = await engine.internals.indexes.get(CNN_SPACE, CNN_DIM);
  await index.maintain();
  console.log(`  CNN index: ${index.size} vectors (${per} per picture), ${index.isFlat ? 'flat' : `IVF-PQ, ${index.nlist} lists`}`);
  // Real pictures for the query photos: region search cuts the box out of them.
  for (let k = 0; k < QUERY_PHOTOS; k++) {
    const path = (db.prepare('SELECT path FROM photos WHERE id = ?').get(k + 1) as { path: string }).path;
    mkdirSync(join(path, '..'), { recursive: true });
    const noise = Buffer.from(new Uint8Array(64 * 48 * 3).map(() => Math.floor(r() * 256)));
    await sharp(noise, { raw: { width: 64, height: 48, channels: 3 } }).resize(1600, 1200, { kernel: 'cubic' }).jpeg({ quality: 85 }).toFile(path);
  }
}

async function main(): Promise<void> {
  console.log(`Loupe bench:search — ${availableParallelism()} × ${cpus()[0]?.model ?? 'CPU'}, node ${process.version}, ${N.toLocaleString('en-US')} photos`);
  if (!existsSync(join(PACK_SRC, '.complete'))) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', ENCODE_BENCH, '--generate-only'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('generating the model failed');
  }
  mkdirSync(ROOT, { recursive: true });
  const libDir = join(ROOT, `library-${N}-v2`); // v2: with the CNN space
  const fresh = !existsSync(join(libDir, '.complete'));
  if (fresh) rmSync(libDir, { recursive: true, force: true });
  const engine = Engine.open({ libraryDir: libDir, device: 'cpu' });
  try {
    let t = performance.now();
    if (fresh) {
      await engine.importModel(PACK_SRC, { name: 'vit-b32' });
      engine.internals.spaces.setActive('clip', 'vit-b32');
      await build(engine, 512);
      writeCnnPack(CNN_PACK_SRC, CNN_BENCH, 5);
      await engine.importModel(CNN_PACK_SRC, { name: 'rn50' });
      engine.internals.spaces.setActive('cnn', 'rn50');
      await buildCnn(engine);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(libDir, '.complete'), '');
      console.log(`  built in ${fmt((performance.now() - t) / 1000)} s`);
    }
    t = performance.now();
    await engine.search({ text: 'warm up the models', limit: 50 });
    await engine.search({ photo: { id: 1 }, mode: 'same', limit: 50 });
    console.log(`  models and indexes loaded in ${fmt((performance.now() - t) / 1000)} s`);

    const short = ['dog', 'red car', 'beach', 'birthday cake', 'mountains', 'snow', 'bicycle', 'sunset'];
    const long = ['two kids building a sandcastle at sunset', 'a red car parked in the snow', 'grandma blowing out candles on a birthday cake', 'a dog running on the beach with a ball'];
    const time = async (label: string, n: number, run: (i: number) => Promise<unknown>): Promise<number[]> => {
      const lat: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        await run(i);
        lat.push(performance.now() - s);
      }
      console.log(`${label}: p50 ${fmt(percentile(lat, 50))} ms, p99 ${fmt(percentile(lat, 99))} ms (${n} queries)`);
      return lat;
    };
    console.log('\nsentence query, end to end (parse, tokenize, text encoder, search, rows; 50 results; every query new):');
    const a = await time('  short queries (4-prompt ensemble)', 100, (i) => engine.search({ text: `${short[i % short.length]} ${i}`, limit: 50 }));
    const b = await time('  sentences', 100, (i) => engine.search({ text: `${long[i % long.length]} ${i}`, limit: 50 }));
    console.log(`  all: p50 ${fmt(percentile([...a, ...b], 50))} ms (target < 60 ms)`);
    await time('  sentence with filters (camera, date range)', 50, (i) => engine.search({ text: `${long[i % long.length]} ${i}`, limit: 50, filters: { camera: 'nikon', from: Date.UTC(2016, 0, 1), to: Date.UTC(2020, 0, 1) } }));
    console.log('\nphoto query ("more like this": stored vector, search, rows; 50 results):');
    await time('  similar', 100, (i) => engine.search({ photo: { id: 1 + ((i * 997) % N) }, limit: 50 }));
    await time('  similar + query expansion', 100, (i) => engine.search({ photo: { id: 1 + ((i * 991) % N) }, expand: true, limit: 50 }));
    await time('  similar + diffusion (top 100)', 30, (i) => engine.search({ photo: { id: 1 + ((i * 983) % N) }, diffusion: true, limit: 50 }));
    console.log('\n"same object" and region queries (whitened CNN space, global + regional vectors, αQE on as by default):');
    await time('  same object (stored descriptor)', 50, (i) => engine.search({ photo: { id: 1 + ((i * 997) % N) }, mode: 'same', limit: 50 }));
    await engine.search({ region: { photoId: 1, box: { x: 0.1, y: 0.1, w: 0.3, h: 0.3 } }, limit: 50 });
    await time('  region (crop → CNN → whitening → regional vectors → boxed hits)', 40, (i) => {
      const a = (i % 7) / 10;
      return engine.search({ region: { photoId: 1 + (i % QUERY_PHOTOS), box: { x: a * 0.6, y: a * 0.5, w: 0.2 + a / 2, h: 0.25 + a / 3 } }, limit: 50 });
    });
    // The region query's share that is the CNN itself: one crop's size, preprocessed and run.
    const cnn = await engine.internals.encoders.cnn('rn50');
    const queryPhoto = (engine.internals.db.prepare('SELECT path FROM photos WHERE id = 1').get() as { path: string }).path;
    const crop = await sharp(queryPhoto).extract({ left: 160, top: 120, width: 640, height: 480 }).png({ compressionLevel: 0 }).toBuffer();
    await time('  of which the CNN alone on a 640 × 480 crop (preprocess, forward, pooling)', 10, () => cnn.describe(crop));
    const teach = performance.now();
    const r = await engine.teachCategory('bench category', [1, 2, 3, 4, 5]);
    console.log(`\nteach a category from 5 examples: train ${fmt(r.trainMs)} ms, train + score ${N.toLocaleString('en-US')} pictures ${fmt(performance.now() - teach, 0)} ms`);
    await engine.deleteCategory('bench category');
    console.log(`peak memory (max RSS): ${fmt(process.resourceUsage().maxRSS / 1024, 0)} MB`);
  } finally {
    await engine.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
