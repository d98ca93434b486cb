/**
 * Crash safety and damage detection of the index files: every file truncated or with a flipped
 * byte is detected (at open, or for vector records when read) and the index is rebuilt from
 * SQLite's stored vectors, never silently used; a writer killed mid-write leaves the previous
 * generation intact and loses nothing SQLite committed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../main/db/database.js';
import { VectorStore } from '../../main/db/repos/vectors.js';
import { IndexCorruptError } from '../../main/index/segment.js';
import { VectorIndex } from '../../main/index/vector-index.js';
import { tempDir } from '../helpers/fixtures.js';
import { bruteForce, Mixture, recallAtK } from '../helpers/vectors.js';

const D = 32;
const SPACE = 'clip';
const mixture = new Mixture({ d: D, seed: 5, topics: 40, subtopicsPerTopic: 30, topicSpread: 0.7, pointSpread: 0.4 });

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

function tmp(): string {
  const t = tempDir('loupe-index-crash-');
  cleanups.push(t.cleanup);
  return t.dir;
}

function openStore(file: string): { db: Db; store: VectorStore } {
  const db = openDatabase(file);
  cleanups.push(() => db.close());
  return { db, store: new VectorStore(db) };
}

const N = 6000;
const base = mixture.sample(N, 21);
const queries = mixture.sample(40, 22);
let template: string;
/** Live hashes after the template's deletions, and their vectors' rows in `base`. */
const deleted = new Set<number>();

let templateCleanup = (): void => undefined;
afterAll(() => templateCleanup());

beforeAll(async () => {
  // A library with a trained index, two segments, and tombstones: every kind of file exists.
  const t = tempDir('loupe-index-template-');
  template = t.dir;
  templateCleanup = t.cleanup;
  const db = openDatabase(join(template, 'loupe.db'));
  const store = new VectorStore(db);
  const index = await VectorIndex.open(join(template, 'index'), { dim: D, source: store.source(SPACE), opq: 'on' });
  for (let i = 0; i < 5000; i++) store.put(SPACE, `h${i}`, [{ region: 0, box: null, vector: base.subarray(i * D, i * D + D) }]);
  index.sync();
  await index.maintain();
  for (let i = 5000; i < N; i++) store.put(SPACE, `h${i}`, [{ region: 0, box: null, vector: base.subarray(i * D, i * D + D) }]);
  for (let i = 0; i < N; i += 50) {
    store.deleteContent(`h${i}`);
    deleted.add(i);
  }
  index.sync();
  await index.flush();
  index.abandon();
  db.close();
  const files = readdirSync(join(template, 'index'));
  expect(files.filter((f) => f.endsWith('.ivf'))).toHaveLength(2);
  expect(files.some((f) => f.startsWith('quant-'))).toBe(true);
  expect(files.some((f) => f.startsWith('tomb-'))).toBe(true);
}, 120_000);

function liveTruth(): { truth: Int32Array[]; hashOfRow: (row: number) => string } {
  const keep = Array.from({ length: N }, (_, i) => i).filter((i) => !deleted.has(i));
  const x = new Float32Array(keep.length * D);
  keep.forEach((i, j) => x.set(base.subarray(i * D, i * D + D), j * D));
  const truth = bruteForce(x, keep.length, queries, 40, D, 10).map((t) => Int32Array.from(t, (j) => keep[j]!));
  return { truth, hashOfRow: (row) => `h${row}` };
}

/** Recall@10 of an index against exact search over the live vectors, mapping items back to rows. */
function recall(index: VectorIndex, store: VectorStore): number {
  const { truth } = liveTruth();
  const found: number[][] = [];
  for (let q = 0; q < 40; q++) {
    const hits = index.search(queries.subarray(q * D, q * D + D), { k: 10, nprobe: 32 });
    found.push(hits.map((h) => Number(store.hashOf(h.item)!.slice(1))));
  }
  return recallAtK(truth, found, 10);
}

function copyTemplate(): string {
  const d = tmp();
  cpSync(template, d, { recursive: true });
  return d;
}

type Damage = 'truncate' | 'flip';

function damage(file: string, how: Damage): void {
  const size = statSync(file).size;
  if (how === 'truncate') truncateSync(file, Math.floor(size / 2));
  else {
    const bytes = readFileSync(file);
    // Past the header, in the data: a flipped bit in a header would be too easy to catch.
    const at = Math.min(size - 1, Math.max(70, Math.floor(size * 0.6)));
    bytes[at] = bytes[at]! ^ 0x10;
    writeFileSync(file, bytes);
  }
}

describe('index damage', () => {
  it('the intact copy opens cleanly and searches well', async () => {
    const d = copyTemplate();
    const { store } = openStore(join(d, 'loupe.db'));
    const messages: string[] = [];
    const index = await VectorIndex.open(join(d, 'index'), { dim: D, source: store.source(SPACE), log: (m) => messages.push(m) });
    expect(messages).toEqual([]);
    expect(index.isFlat).toBe(false);
    expect(recall(index, store)).toBeGreaterThanOrEqual(0.95);
    index.abandon();
  });

  const kinds = ['manifest.json', 'quant-', 'tomb-', '.ivf', '.vec'] as const;
  const cases = kinds.flatMap((k) => (['truncate', 'flip'] as const).map((how) => [k, how] as const));
  it.each(cases)('%s %s is detected and rebuilt from SQLite', async (kind, how) => {
    const d = copyTemplate();
    const files = readdirSync(join(d, 'index')).filter((f) => (kind.startsWith('.') ? f.endsWith(kind) : f.startsWith(kind)));
    expect(files.length).toBeGreaterThan(0);
    // The newest of that kind (for .ivf/.vec: the segment written last).
    const target = join(d, 'index', files.sort().at(-1)!);
    damage(target, how);
    const { store } = openStore(join(d, 'loupe.db'));
    const messages: string[] = [];

    // Without a source to rebuild from, a damaged index refuses to open rather than serve wrong results.
    if (!(kind === '.vec' && how === 'flip')) {
      await expect(VectorIndex.open(join(copyTemplateWith(d), 'index'), { dim: D })).rejects.toBeInstanceOf(IndexCorruptError);
    }

    const index = await VectorIndex.open(join(d, 'index'), { dim: D, source: store.source(SPACE), log: (m) => messages.push(m) });
    if (kind === '.vec' && how === 'flip') {
      // Size and headers are fine, so open succeeds; the record's checksum fails when it is read.
      expect(messages).toEqual([]);
      for (let q = 0; q < 40 && !index.damage; q++) index.search(queries.subarray(q * D, q * D + D), { k: 10, nprobe: 2048, rerank: N });
      expect(index.damage).toMatch(/checksum/);
      expect(index.plannedMaintenance()).toBe('repair');
      expect(await index.maintain()).toBe('repair');
      expect(index.damage).toBeNull();
    } else {
      expect(messages.join('\n')).toMatch(/damaged.*rebuilding from stored vectors/);
    }
    expect(index.size).toBe(N - deleted.size);
    expect(recall(index, store)).toBeGreaterThanOrEqual(0.95);
    await index.close();
    const again = await VectorIndex.open(join(d, 'index'), { dim: D, source: store.source(SPACE), log: (m) => messages.push(m) });
    expect(again.damage).toBeNull();
    expect(again.size).toBe(N - deleted.size);
    again.abandon();
  });

  /** A second copy of a damaged library dir, for the no-source check. */
  function copyTemplateWith(src: string): string {
    const d = tmp();
    cpSync(src, d, { recursive: true });
    return d;
  }
});

describe('catching up with SQLite', () => {
  it('replays vectors stored and deleted while the index was closed or unflushed', async () => {
    const d = copyTemplate();
    const { store } = openStore(join(d, 'loupe.db'));
    const index = await VectorIndex.open(join(d, 'index'), { dim: D, source: store.source(SPACE) });
    const extra = mixture.sample(20, 23);
    for (let i = 0; i < 20; i++) store.put(SPACE, `x${i}`, [{ region: 0, box: null, vector: extra.subarray(i * D, i * D + D) }]);
    index.sync();
    expect(store.hashOf(index.search(extra.subarray(0, D), { k: 1 })[0]!.item)).toBe('x0');
    index.abandon(); // a crash: nothing flushed
    store.deleteContent('x1');
    const again = await VectorIndex.open(join(d, 'index'), { dim: D, source: store.source(SPACE) });
    expect(store.hashOf(again.search(extra.subarray(0, D), { k: 1 })[0]!.item)).toBe('x0');
    expect(store.hashOf(again.search(extra.subarray(D, 2 * D), { k: 1 })[0]!.item)).not.toBe('x1');
    expect(again.size).toBe(N - deleted.size + 19);
    again.abandon();
  });
});

describe('a writer killed mid-write', () => {
  it.each([1, 2, 3])('loses nothing SQLite committed and leaves no partial file in use (run %i)', async (run) => {
    const d = tmp();
    const dbFile = join(d, 'loupe.db');
    openDatabase(dbFile).close();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/index-writer.ts', dbFile, join(d, 'index'), String(run)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    // Let it get past training (several rounds), then kill it at a different moment each run.
    const rounds = 4 + run;
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if ((out.match(/round /g) ?? []).length >= rounds) {
          clearInterval(timer);
          setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 37 * run);
        }
        if (child.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`writer exited early: ${err}`));
        }
      }, 5);
    });
    await new Promise((r) => child.once('exit', r));
    const { db, store } = openStore(dbFile);
    const rows = db.prepare('SELECT c.hash, v.data FROM vectors v JOIN contents c ON c.id = v.content_id').all() as { hash: string; data: Buffer }[];
    const messages: string[] = [];
    // A write torn by the kill leaves a .tmp file; one is made here too, so every run has one to clear.
    const tmpFiles = (): string[] => readdirSync(join(d, 'index')).filter((f) => f.endsWith('.tmp'));
    writeFileSync(join(d, 'index', `torn-${run}.tmp`), Buffer.alloc(100, 7));
    expect(tmpFiles()).toContain(`torn-${run}.tmp`);
    const index = await VectorIndex.open(join(d, 'index'), { dim: D, source: store.source('test'), log: (m) => messages.push(m) });
    expect(tmpFiles()).toEqual([]);
    expect(index.size).toBe(rows.length);
    // Every committed vector is found as its own nearest neighbour.
    for (let i = 0; i < rows.length; i += 97) {
      const v = new Float32Array(new Uint8Array(rows[i]!.data).buffer);
      expect(store.hashOf(index.search(v, { k: 1, nprobe: 64 })[0]!.item)).toBe(rows[i]!.hash);
    }
    // And deleted ones (every tenth of each round) never come back.
    const hashes = new Set(rows.map((r) => r.hash));
    expect(hashes.has(`h${run * 1000}-0`)).toBe(false);
    expect(hashes.has(`h${run * 1000}-1`)).toBe(true);
    index.abandon();
  }, 120_000);
});

describe('several spaces side by side', () => {
  it('keeps each space in its own index, fed from one store; deleting a picture removes it from all', async () => {
    const { IndexSet } = await import('../../main/index/spaces.js');
    const d = tmp();
    const { db, store } = openStore(join(d, 'loupe.db'));
    const set = new IndexSet(join(d, 'index'), store);
    const clip = await set.get('clip-b32', D);
    const cnn = await set.get('cnn-gem', 16);
    const a = mixture.sample(300, 31);
    const small = new Mixture({ d: 16, seed: 2, topics: 10, subtopicsPerTopic: 10, topicSpread: 0.5, pointSpread: 0.3 }).sample(300 * 3, 1);
    db.transaction(() => {
      for (let i = 0; i < 300; i++) {
        store.put('clip-b32', `p${i}`, [{ region: 0, box: null, vector: a.subarray(i * D, i * D + D) }]);
        store.put('cnn-gem', `p${i}`, [0, 1, 2].map((r) => ({ region: r, box: r === 0 ? null : { x: 0.1 * r, y: 0.2, w: 0.3, h: 0.4 }, vector: small.subarray((i * 3 + r) * 16, (i * 3 + r + 1) * 16) })));
      }
    })();
    await set.sync();
    expect(clip.size).toBe(300);
    expect(cnn.size).toBe(900);
    const hit = cnn.search(small.subarray((5 * 3 + 2) * 16, (5 * 3 + 3) * 16), { k: 1 })[0]!;
    expect(store.hashOf(hit.item)).toBe('p5');
    expect(hit.region).toBe(2);
    expect(store.box('cnn-gem', hit.item, hit.region)).toEqual({ x: expect.closeTo(0.2, 6), y: expect.closeTo(0.2, 6), w: expect.closeTo(0.3, 6), h: expect.closeTo(0.4, 6) });
    await expect(set.get('clip-b32', 64)).rejects.toThrow(/32-d/);
    expect(() => set.get('../escape', D)).toThrow(/invalid space/);
    store.deleteContent('p5');
    await set.sync();
    expect(clip.size).toBe(299);
    expect(cnn.size).toBe(897);
    expect(cnn.search(small.subarray((5 * 3 + 2) * 16, (5 * 3 + 3) * 16), { k: 5 }).map((h) => store.hashOf(h.item))).not.toContain('p5');
    await set.maintain();
    expect((db.prepare('SELECT count(*) n FROM vector_deletions').get() as { n: number }).n).toBe(0);
    await set.close();
  });
});
