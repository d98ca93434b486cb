/**
 * npm run bench:index — Loupe's IVF-PQ index against exact search in JS, usearch, hnswlib-node
 * and LanceDB's IVF_PQ, on 100k and 1M clustered 512-d unit vectors with 1,000 held-out queries.
 * Each engine builds and is queried in its own process; figures are printed as one table.
 *
 * Env: LOUPE_BENCH_SIZES (default "100000,1000000"), LOUPE_BENCH_ENGINES (default all),
 * LOUPE_BENCH_DIR (default .bench/index). Data and ground truth are cached there, and so are the
 * results: `npm run bench:index -- --report` prints the last table again.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModel, DataType, int64Tensor } from '../main/onnx/proto.js';
import { writeFileAtomicChunks } from '../main/util/atomic.js';
import { DEFAULT_MIXTURE, Mixture } from '../test/helpers/vectors.js';
import { D, ENGINES, K, readF32, type BuildResult, type Engine, type QueryResult } from './index-engines.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const work = resolve(process.env['LOUPE_BENCH_DIR'] ?? join(root, '.bench/index'));
const sizes = (process.env['LOUPE_BENCH_SIZES'] ?? '100000,1000000').split(',').map(Number);
const engines = (process.env['LOUPE_BENCH_ENGINES']?.split(',') as Engine[] | undefined) ?? [...ENGINES];
const NQ = 1000;
const MAX_N = Math.max(...sizes);
const SEED = 2026;

function log(msg: string): void {
  process.stderr.write(`[bench:index] ${msg}\n`);
}

function ensureCompetitors(): string | null {
  const dir = join(root, 'bench/competitors');
  if (existsSync(join(dir, 'node_modules/usearch')) && existsSync(join(dir, 'node_modules/hnswlib-node')) && existsSync(join(dir, 'node_modules/@lancedb/lancedb'))) return null;
  log('installing competitor indexes into bench/competitors (npm ci) …');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) return `npm ci in bench/competitors failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  return null;
}

async function ensureData(): Promise<void> {
  mkdirSync(work, { recursive: true });
  const basePath = join(work, 'base.f32');
  const mixture = new Mixture({ d: D, seed: SEED, ...DEFAULT_MIXTURE });
  if (!existsSync(basePath) || statSync(basePath).size < MAX_N * D * 4) {
    log(`generating ${MAX_N} vectors (mixture of ${DEFAULT_MIXTURE.topics} topics × ${DEFAULT_MIXTURE.subtopicsPerTopic} sub-topics on the sphere) …`);
    const base = mixture.sample(MAX_N, 0);
    await writeFileAtomicChunks(basePath, [new Uint8Array(base.buffer)]);
  }
  const qPath = join(work, 'queries.f32');
  if (!existsSync(qPath)) await writeFileAtomicChunks(qPath, [new Uint8Array(mixture.sample(NQ, 1).buffer)]);
}

/** Exact top-K by squared L2 for every query, with onnxruntime's GEMM (+ TopK) over base chunks. */
async function groundTruth(n: number): Promise<void> {
  const path = join(work, `truth-${n}.i32`);
  if (existsSync(path)) return;
  log(`exact ground truth for ${n} …`);
  const ort = await import('onnxruntime-node');
  const model = buildModel({
    name: 'exact',
    initializers: [int64Tensor('k', [1], [K])],
    inputs: [
      { name: 'q', type: DataType.FLOAT, shape: [NQ, D] },
      { name: 'b', type: DataType.FLOAT, shape: ['n', D] },
      { name: 'bias', type: DataType.FLOAT, shape: ['n'] },
    ],
    outputs: [
      { name: 'v', type: DataType.FLOAT, shape: [NQ, K] },
      { name: 'i', type: DataType.INT64, shape: [NQ, K] },
    ],
    nodes: [
      { op: 'Gemm', inputs: ['q', 'b', 'bias'], outputs: ['s'], attrs: { transB: 1 } },
      { op: 'TopK', inputs: ['s', 'k'], outputs: ['v', 'i'], attrs: { axis: 1, largest: 1, sorted: 1 } },
    ],
  });
  const session = await ort.InferenceSession.create(model);
  const queries = readF32(join(work, 'queries.f32'), NQ, D);
  const base = readF32(join(work, 'base.f32'), n, D);
  const bestV = new Float32Array(NQ * K).fill(-Infinity);
  const bestI = new Int32Array(NQ * K);
  const chunk = 65536;
  const qT = new ort.Tensor('float32', queries, [NQ, D]);
  for (let s = 0; s < n; s += chunk) {
    const len = Math.min(chunk, n - s);
    const b = base.subarray(s * D, (s + len) * D);
    const bias = new Float32Array(len);
    for (let i = 0; i < len; i++) {
      let nn = 0;
      for (let j = 0; j < D; j++) nn += b[i * D + j]! ** 2;
      bias[i] = -0.5 * nn;
    }
    const out = await session.run({ q: qT, b: new ort.Tensor('float32', b, [len, D]), bias: new ort.Tensor('float32', bias, [len]) });
    const v = out['v']!.data as Float32Array;
    const idx = out['i']!.data as BigInt64Array;
    for (let q = 0; q < NQ; q++) {
      const merged: { v: number; i: number }[] = [];
      for (let j = 0; j < K; j++) merged.push({ v: bestV[q * K + j]!, i: bestI[q * K + j]! }, { v: v[q * K + j]!, i: s + Number(idx[q * K + j]!) });
      merged.sort((a, z) => z.v - a.v || a.i - z.i);
      for (let j = 0; j < K; j++) {
        bestV[q * K + j] = merged[j]!.v;
        bestI[q * K + j] = merged[j]!.i;
      }
    }
  }
  await session.release();
  await writeFileAtomicChunks(path, [new Uint8Array(bestI.buffer)]);
}

function runChild<T>(engine: Engine, phase: 'build' | 'query', n: number): T | { error: string } {
  const env = { ...process.env, ...(engine === 'lancedb' && phase === 'query' ? { LANCE_CPU_THREADS: '1' } : {}) };
  const r = spawnSync(process.execPath, ['--max-old-space-size=20000', '--import', 'tsx', join(root, 'bench/index-engines.ts'), engine, phase, String(n), work], {
    cwd: root,
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 90 * 60_000,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line) return JSON.parse(line.slice(7)) as T;
  const why = (r.error?.message ?? r.stderr ?? '').trim().split('\n').filter(Boolean).slice(-2).join(' | ');
  return { error: why || `exit ${r.status}` };
}

interface Row {
  engine: Engine;
  n: number;
  build: BuildResult | { error: string };
  query: QueryResult | { error: string } | null;
}

const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MB`;
const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(0));

function render(rows: readonly Row[]): string {
  const lines: string[] = [];
  lines.push(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; d=${D}, k=${K}, ${NQ} queries, single-threaded queries`);
  lines.push('');
  lines.push('| engine | n | build s | bytes/vector on disk | resident (after open + queries) | open s | parameter | recall@10 | p50 ms | p99 ms |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |');
  for (const r of rows) {
    if ('error' in r.build) {
      lines.push(`| ${r.engine} | ${r.n} | skipped: ${r.build.error.replace(/\|/g, '/')} | | | | | | | |`);
      continue;
    }
    const b = r.build;
    const q = r.query;
    const head = `| ${r.engine} | ${r.n} | ${b.buildSeconds.toFixed(1)} | ${(b.bytesOnDisk / r.n).toFixed(0)} |`;
    if (!q || 'error' in q) {
      lines.push(`${head} query failed: ${q && 'error' in q ? q.error.replace(/\|/g, '/') : 'not run'} | | | | | |`);
      continue;
    }
    q.curve.forEach((p, i) => {
      const lead = i === 0 ? `${head} ${mb(q.residentBytes)} | ${q.openSeconds.toFixed(2)} |` : '| | | | | | |';
      lines.push(`${lead} ${p.param} | ${p.recall.toFixed(3)} | ${ms(p.p50)} | ${ms(p.p99)} |`);
    });
    const notes = [b.note, q.note].filter(Boolean).join('; ');
    if (notes) lines.push(`| | | | | | | _${notes}_ | | | |`);
  }
  return lines.join('\n');
}

function verdicts(rows: readonly Row[]): string[] {
  const out: string[] = [];
  const q = (engine: Engine, n: number): QueryResult | null => {
    const r = rows.find((x) => x.engine === engine && x.n === n)?.query;
    return r && !('error' in r) ? r : null;
  };
  for (const n of sizes) {
    const loupe = q('loupe', n);
    if (!loupe) continue;
    const best = loupe.curve.filter((p) => p.recall >= 0.95).sort((a, b) => a.p50 - b.p50)[0];
    if (!best) {
      out.push(`n=${n}: Loupe never reached recall@10 0.95`);
      continue;
    }
    out.push(`n=${n}: Loupe reaches recall@10 ${best.recall.toFixed(3)} at ${best.param}, p50 ${ms(best.p50)} ms (target < 5 ms at 1M)`);
    const brute = q('brute-js', n);
    if (brute) out.push(`  vs exact JS scan: p50 ${ms(brute.curve[0]!.p50)} ms → ${(brute.curve[0]!.p50 / best.p50).toFixed(0)}× faster (target ≥ 20×)`);
    const lance = q('lancedb', n);
    if (lance) {
      const eq = lance.curve.filter((p) => p.recall >= best.recall).sort((a, b) => a.p50 - b.p50)[0];
      out.push(eq ? `  vs LanceDB IVF_PQ at recall ≥ ${best.recall.toFixed(3)} (${eq.param}): p50 ${ms(eq.p50)} ms → ${(eq.p50 / best.p50).toFixed(1)}× faster` : `  LanceDB IVF_PQ never reached recall ${best.recall.toFixed(3)} (best ${Math.max(...lance.curve.map((p) => p.recall)).toFixed(3)})`);
    }
    const hnsw = q('hnswlib', n);
    if (hnsw) out.push(`  resident memory ${mb(loupe.residentBytes)} vs hnswlib ${mb(hnsw.residentBytes)} → ${(loupe.residentBytes / hnsw.residentBytes).toFixed(3)} of it (target ≤ 0.2)`);
  }
  return out;
}

async function main(): Promise<void> {
  if (process.argv.includes('--report')) {
    // Re-print the table of the last run (or of results assembled from separate runs).
    const { readFileSync } = await import('node:fs');
    const saved = JSON.parse(readFileSync(join(work, 'results.json'), 'utf8')) as Row[];
    console.log(render(saved));
    console.log('');
    for (const v of verdicts(saved)) console.log(v);
    return;
  }
  const competitorError = ensureCompetitors();
  await ensureData();
  for (const n of sizes) await groundTruth(n);
  const rows: Row[] = [];
  for (const n of sizes) {
    for (const engine of engines) {
      if (competitorError && engine !== 'loupe' && engine !== 'brute-js') {
        rows.push({ engine, n, build: { error: competitorError }, query: null });
        continue;
      }
      log(`${engine} n=${n}: build …`);
      const build = runChild<BuildResult>(engine, 'build', n);
      let query: Row['query'] = null;
      if (!('error' in build)) {
        log(`${engine} n=${n}: built in ${build.buildSeconds.toFixed(1)} s; querying …`);
        query = runChild<QueryResult>(engine, 'query', n);
      } else log(`${engine} n=${n}: ${build.error}`);
      rows.push({ engine, n, build, query });
      writeFileSync(join(work, 'results.json'), JSON.stringify(rows, null, 1));
    }
  }
  console.log(render(rows));
  console.log('');
  for (const v of verdicts(rows)) console.log(v);
}

await main();
