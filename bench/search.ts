/**
 * npm run bench:search — query latency at library scale (default 100,000 photos):
 *  - sentence query end to end (parse, tokenize, full-size ViT-B/32 text encoder with random
 *    weights, IVF-PQ search, SQLite rows): p50 / p99, target p50 < 60 ms; short queries run the
 *    4-template prompt ensemble, long ones a single sentence;
 *  - photo query ("more like this": stored vector, search, rows) p50 / p99, and the same with
 *    average query expansion;
 *  - teaching a category from 5 examples (train + score every picture).
 * The library is real (SQLite file, index files) but its photos are rows without files and
 * their vectors come from a seeded mixture, so it builds in a minute; only latency is measured.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../main/engine.js';
import { setActiveModel } from '../main/library/embedder.js';
import { setSetting } from '../main/db/settings.js';
import { Mixture } from '../test/helpers/vectors.js';

const N = Number(process.env['BENCH_PHOTOS'] ?? 100_000);
const ROOT = join(process.cwd(), '.bench', 'search');
const PACK_SRC = join(process.cwd(), '.bench', 'encode', 'vit-b32-random-v2');
const ENCODE_BENCH = fileURLToPath(new URL('./encode.ts', import.meta.url));

const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const fmt = (n: number, d = 1): string => n.toFixed(d);

async function build(engine: Engine, dim: number): Promise<void> {
  const db = engine.db;
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
        engine.vectors.put(space, hash, [{ region: 0, box: null, vector: vecs.subarray(i * dim, (i + 1) * dim) }]);
      }
    })();
  }
  setSetting(db, 'serving.clip', space);
  const index = await engine.indexes.get(space, dim);
  await index.maintain();
  console.log(`  index: ${index.size} vectors, ${index.isFlat ? 'flat' : `IVF-PQ, ${index.nlist} lists`}`);
}

async function main(): Promise<void> {
  console.log(`Loupe bench:search — ${availableParallelism()} × ${cpus()[0]?.model ?? 'CPU'}, node ${process.version}, ${N.toLocaleString('en-US')} photos`);
  if (!existsSync(join(PACK_SRC, '.complete'))) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', ENCODE_BENCH, '--generate-only'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('generating the model failed');
  }
  mkdirSync(ROOT, { recursive: true });
  const libDir = join(ROOT, `library-${N}`);
  const fresh = !existsSync(join(libDir, '.complete'));
  if (fresh) rmSync(libDir, { recursive: true, force: true });
  const engine = Engine.open({ libraryDir: libDir, device: 'cpu' });
  try {
    let t = performance.now();
    if (fresh) {
      await engine.importModel(PACK_SRC, { name: 'vit-b32' });
      setActiveModel(engine.db, 'clip', 'vit-b32');
      await build(engine, 512);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(libDir, '.complete'), '');
      console.log(`  built in ${fmt((performance.now() - t) / 1000)} s`);
    }
    t = performance.now();
    await engine.search({ text: 'warm up the models', limit: 50 });
    console.log(`  models and index loaded in ${fmt((performance.now() - t) / 1000)} s`);

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
