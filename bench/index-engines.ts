/**
 * One engine, one phase, in its own process (so resident memory is that engine's alone):
 *   node --import tsx bench/index-engines.ts <engine> build|query <n> <workdir>
 * Prints one JSON line with the figures. Driven by bench/index.ts.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { VectorIndex } from '../main/index/vector-index.js';
import { TopK } from '../main/index/topk.js';

export const D = 512;
export const K = 10;
export type Engine = 'loupe' | 'brute-js' | 'usearch' | 'hnswlib' | 'lancedb';
export const ENGINES: readonly Engine[] = ['loupe', 'brute-js', 'usearch', 'hnswlib', 'lancedb'];

export interface BuildResult {
  readonly engine: Engine;
  readonly n: number;
  readonly buildSeconds: number;
  readonly bytesOnDisk: number;
  readonly note?: string;
}

export interface CurvePoint {
  readonly param: string;
  readonly recall: number;
  readonly p50: number;
  readonly p99: number;
  readonly queries: number;
}

export interface QueryResult {
  readonly engine: Engine;
  readonly n: number;
  readonly openSeconds: number;
  readonly residentBytes: number;
  readonly curve: readonly CurvePoint[];
  readonly note?: string;
}

export function readF32(path: string, rows: number, d: number): Float32Array {
  const out = new Float32Array(rows * d);
  const fd = openSync(path, 'r');
  try {
    const bytes = new Uint8Array(out.buffer);
    let off = 0;
    while (off < bytes.length) {
      const n = readSync(fd, bytes, off, Math.min(1 << 26, bytes.length - off), off);
      if (n === 0) throw new Error(`${path} is shorter than ${rows} rows`);
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

function duSync(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((a, f) => a + duSync(join(path, f)), 0);
}

const competitors = createRequire(new URL('./competitors/package.json', import.meta.url));

interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(v: Float32Array, k: number, threads: number): { keys: BigUint64Array };
  save(path: string): void;
  load(path: string): void;
}
interface UsearchModule {
  Index: new (config: { dimensions: number; metric: string; connectivity: number; expansion_add: number; expansion_search: number }) => UsearchIndex;
}
interface HnswIndex {
  initIndex(maxElements: number, m?: number, efConstruction?: number, seed?: number): void;
  addPoint(point: number[], label: number): void;
  searchKnn(q: number[], k: number): { neighbors: number[] };
  setEf(ef: number): void;
  writeIndexSync(path: string): void;
  readIndexSync(path: string): void;
}
interface HnswModule {
  HierarchicalNSW: new (space: string, dim: number) => HnswIndex;
}

// Structural types for the slices of LanceDB and Arrow used here: they live in
// bench/competitors/node_modules, which a plain checkout (and CI) does not install.
interface ArrowType {
  readonly typeId: number;
}
interface ArrowField {
  readonly name: string;
}
interface ArrowData {
  readonly length: number;
}
interface ArrowModule {
  Field: new (name: string, type: ArrowType, nullable?: boolean) => ArrowField;
  Float32: new () => ArrowType;
  Int32: new () => ArrowType;
  FixedSizeList: new (size: number, child: ArrowField) => ArrowType;
  Struct: new (children: readonly ArrowField[]) => ArrowType;
  Schema: new (fields: readonly ArrowField[]) => { readonly fields: readonly ArrowField[] };
  RecordBatch: new (schema: unknown, data: ArrowData) => unknown;
  Table: new (schema: unknown, batches: readonly unknown[]) => unknown;
  makeData(props: { type: ArrowType; length: number; data?: ArrayBufferView; child?: ArrowData; children?: readonly ArrowData[] }): ArrowData;
}
interface LanceQuery {
  limit(n: number): LanceQuery;
  nprobes(n: number): LanceQuery;
  refineFactor(n: number): LanceQuery;
  select(cols: readonly string[]): LanceQuery;
  toArray(): Promise<{ id: number }[]>;
}
interface LanceTable {
  createIndex(column: string, options: { config: unknown }): Promise<void>;
  vectorSearch(v: Float32Array): LanceQuery;
}
interface LanceModule {
  connect(uri: string): Promise<{ createTable(name: string, data: unknown): Promise<LanceTable>; openTable(name: string): Promise<LanceTable> }>;
  Index: { ivfPq(options: { numPartitions: number; numSubVectors: number; distanceType: string; sampleRate: number; maxIterations: number }): unknown };
}

const now = (): number => performance.now();

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** RSS growth since the baseline, taken after the first curve point (open + 1,000 queries). */
let resident = 0;
let baselineRss = 0;
function noteResident(): void {
  if (resident === 0) resident = process.memoryUsage().rss - baselineRss;
}

async function measure(param: string, queries: Float32Array, truth: Int32Array, count: number, run: (q: Float32Array) => Promise<number[]> | number[]): Promise<CurvePoint> {
  const lat: number[] = [];
  let hit = 0;
  for (let i = 0; i < Math.min(50, count); i++) await run(queries.subarray(i * D, i * D + D));
  for (let i = 0; i < count; i++) {
    const q = queries.subarray(i * D, i * D + D);
    const t = now();
    const found = await run(q);
    lat.push(now() - t);
    const want = new Set(Array.from(truth.subarray(i * K, i * K + K)));
    for (const f of found.slice(0, K)) if (want.has(f)) hit++;
  }
  lat.sort((a, b) => a - b);
  noteResident();
  return { param, recall: hit / (count * K), p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), queries: count };
}

function nlistFor(n: number): number {
  return 2 ** Math.round(Math.log2(2 * Math.sqrt(n)));
}

async function build(engine: Engine, n: number, work: string): Promise<BuildResult> {
  const base = readF32(join(work, 'base.f32'), n, D);
  const t = now();
  const out = (bytesOnDisk: number, note?: string): BuildResult => ({ engine, n, buildSeconds: (now() - t) / 1000, bytesOnDisk, note });
  switch (engine) {
    case 'loupe': {
      const dir = join(work, `loupe-${n}`);
      rmSync(dir, { recursive: true, force: true });
      const index = await VectorIndex.open(dir, { dim: D, opq: 'auto' });
      await index.addMany({ ids: Uint32Array.from({ length: n }, (_, i) => i + 1), items: Uint32Array.from({ length: n }, (_, i) => i), regions: new Uint16Array(n), vectors: base });
      const note = `nlist ${index.nlist}, PQ 64×8 bit${index.usesRotation ? ', OPQ' : ' (OPQ tried, not kept)'}`;
      await index.close();
      return out(duSync(dir), note);
    }
    case 'brute-js':
      return out(n * D * 4, 'float32 matrix');
    case 'usearch': {
      const u = competitors('usearch') as UsearchModule;
      const index = new u.Index({ dimensions: D, metric: 'l2sq', connectivity: 16, expansion_add: 128, expansion_search: 64 });
      index.add(BigUint64Array.from({ length: n }, (_, i) => BigInt(i)), base, 0);
      const file = join(work, `usearch-${n}.usearch`);
      index.save(file);
      return out(duSync(file), 'HNSW M=16 ef_construction=128, all cores for build');
    }
    case 'hnswlib': {
      const h = competitors('hnswlib-node') as HnswModule;
      const index = new h.HierarchicalNSW('l2', D);
      index.initIndex(n, 16, 100, 1);
      for (let i = 0; i < n; i++) index.addPoint(Array.from(base.subarray(i * D, i * D + D)), i);
      const file = join(work, `hnswlib-${n}.bin`);
      index.writeIndexSync(file);
      return out(duSync(file), 'HNSW M=16 ef_construction=100, one thread (addPoint is synchronous)');
    }
    case 'lancedb': {
      const lancedb = (await import(competitors.resolve('@lancedb/lancedb'))) as LanceModule;
      const arrow = (await import(competitors.resolve('apache-arrow'))) as ArrowModule;
      const dir = join(work, `lancedb-${n}`);
      rmSync(dir, { recursive: true, force: true });
      const db = await lancedb.connect(dir);
      const itemField = new arrow.Field('item', new arrow.Float32(), true);
      const schema = new arrow.Schema([new arrow.Field('id', new arrow.Int32(), false), new arrow.Field('vector', new arrow.FixedSizeList(D, itemField), false)]);
      const batches: unknown[] = [];
      const chunk = 65536;
      for (let s = 0; s < n; s += chunk) {
        const len = Math.min(chunk, n - s);
        const ids = arrow.makeData({ type: new arrow.Int32(), length: len, data: Int32Array.from({ length: len }, (_, i) => s + i) });
        const floats = arrow.makeData({ type: new arrow.Float32(), length: len * D, data: base.subarray(s * D, (s + len) * D) });
        const vecs = arrow.makeData({ type: new arrow.FixedSizeList(D, itemField), length: len, child: floats });
        const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: len, children: [ids, vecs] });
        batches.push(new arrow.RecordBatch(schema, struct));
      }
      const table = await db.createTable('vectors', new arrow.Table(schema, batches));
      await table.createIndex('vector', { config: lancedb.Index.ivfPq({ numPartitions: nlistFor(n), numSubVectors: 64, distanceType: 'l2', sampleRate: 64, maxIterations: 20 }) });
      return out(duSync(dir), `IVF_PQ nlist ${nlistFor(n)}, PQ 64×8 bit, k-means on 64 points per list, 20 iterations`);
    }
  }
}

async function query(engine: Engine, n: number, work: string): Promise<QueryResult> {
  const nq = 1000;
  const queries = readF32(join(work, 'queries.f32'), nq, D);
  const truth = new Int32Array(readFileSync(join(work, `truth-${n}.i32`)).buffer.slice(0));
  baselineRss = process.memoryUsage().rss;
  const t = now();
  const curve: CurvePoint[] = [];
  let note: string | undefined;
  let openSeconds = 0;
  let keepAlive: unknown = null;
  switch (engine) {
    case 'loupe': {
      const index = await VectorIndex.open(join(work, `loupe-${n}`), { dim: D });
      openSeconds = (now() - t) / 1000;
      for (const nprobe of [4, 8, 16, 32, 64, 128]) {
        curve.push(await measure(`nprobe=${nprobe}`, queries, truth, nq, (q) => index.search(q, { k: K, nprobe, rerank: 100 }).map((h) => h.item)));
      }
      keepAlive = index;
      break;
    }
    case 'brute-js': {
      const base = readF32(join(work, 'base.f32'), n, D);
      openSeconds = (now() - t) / 1000;
      const count = n >= 1_000_000 ? 30 : 200;
      const heap = new TopK(K);
      curve.push(await measure('exact', queries, truth, count, (q) => {
        heap.reset();
        for (let i = 0; i < n; i++) {
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          const o = i * D;
          for (let j = 0; j < D; j += 4) {
            const a = q[j]! - base[o + j]!;
            const b = q[j + 1]! - base[o + j + 1]!;
            const c = q[j + 2]! - base[o + j + 2]!;
            const e = q[j + 3]! - base[o + j + 3]!;
            s0 += a * a;
            s1 += b * b;
            s2 += c * c;
            s3 += e * e;
          }
          const dist = s0 + s1 + s2 + s3;
          if (dist < heap.worst) heap.push(dist, i);
        }
        return heap.sorted().map((e) => e.id);
      }));
      note = `${count} queries`;
      keepAlive = base;
      break;
    }
    case 'usearch': {
      const u = competitors('usearch') as UsearchModule;
      const file = join(work, `usearch-${n}.usearch`);
      for (const ef of [16, 32, 64, 128, 256]) {
        const index = new u.Index({ dimensions: D, metric: 'l2sq', connectivity: 16, expansion_add: 128, expansion_search: ef });
        const s = now();
        index.load(file);
        if (ef === 16) openSeconds = (now() - s) / 1000;
        curve.push(await measure(`ef=${ef}`, queries, truth, nq, (q) => Array.from(index.search(q, K, 1).keys, Number)));
        keepAlive = index;
      }
      note = 'loaded into RAM (view() would mmap)';
      break;
    }
    case 'hnswlib': {
      const h = competitors('hnswlib-node') as HnswModule;
      const index = new h.HierarchicalNSW('l2', D);
      index.readIndexSync(join(work, `hnswlib-${n}.bin`));
      openSeconds = (now() - t) / 1000;
      for (const ef of [16, 32, 64, 128, 256]) {
        index.setEf(ef);
        curve.push(await measure(`ef=${ef}`, queries, truth, nq, (q) => index.searchKnn(Array.from(q), K).neighbors));
      }
      keepAlive = index;
      break;
    }
    case 'lancedb': {
      const lancedb = (await import(competitors.resolve('@lancedb/lancedb'))) as LanceModule;
      const db = await lancedb.connect(join(work, `lancedb-${n}`));
      const table = await db.openTable('vectors');
      openSeconds = (now() - t) / 1000;
      for (const [nprobes, refine] of [[8, 10], [16, 10], [32, 10], [32, 30], [64, 30]] as const) {
        curve.push(await measure(`nprobes=${nprobes},refine=${refine}`, queries, truth, 300, async (q) => {
          const rows = await table.vectorSearch(q).limit(K).nprobes(nprobes).refineFactor(refine).select(['id']).toArray();
          return rows.map((r) => r.id);
        }));
      }
      note = '300 queries per point; LANCE_CPU_THREADS=1';
      keepAlive = table;
      break;
    }
  }
  const residentBytes = resident;
  void keepAlive;
  return { engine, n, openSeconds, residentBytes, curve, note };
}

if (process.argv[1]?.endsWith('index-engines.ts')) {
  const [engine, phase, nText, work] = process.argv.slice(2) as [Engine, 'build' | 'query', string, string];
  mkdirSync(work, { recursive: true });
  const n = Number(nText);
  const result = phase === 'build' ? await build(engine, n, work) : await query(engine, n, work);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}
