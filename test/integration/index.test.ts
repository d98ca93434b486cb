/**
 * The vector index on real files: exact mode, training, IVF-PQ recall, deletions and compaction,
 * regions, OPQ, persistence, and retraining while it keeps serving.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { FLAT_LIMIT } from '../../main/index/ivf.js';
import { VectorIndex, type IndexEntry } from '../../main/index/vector-index.js';
import { tempDir } from '../helpers/fixtures.js';
import { bruteForce, Mixture, recallAtK } from '../helpers/vectors.js';

const D = 32;
const mixture = new Mixture({ d: D, seed: 5, topics: 40, subtopicsPerTopic: 30, topicSpread: 0.7, pointSpread: 0.4 });

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

function dir(): string {
  const t = tempDir('loupe-index-');
  cleanups.push(t.cleanup);
  return t.dir;
}

function entries(x: Float32Array, firstId: number, item = (i: number): number => firstId + i): IndexEntry[] {
  const n = x.length / D;
  return Array.from({ length: n }, (_, i) => ({ id: firstId + i, item: item(i), region: 0, vector: x.subarray(i * D, i * D + D) }));
}

function addInBatches(index: VectorIndex, list: readonly IndexEntry[], batch = 500): void {
  for (let i = 0; i < list.length; i += batch) index.add(list.slice(i, i + batch));
}

/** Items of the top-k hits for each query. */
function searchAll(index: VectorIndex, queries: Float32Array, k: number, nprobe?: number): number[][] {
  const out: number[][] = [];
  for (let q = 0; q < queries.length / D; q++) out.push(index.search(queries.subarray(q * D, q * D + D), { k, nprobe }).map((h) => h.item));
  return out;
}

describe('vector index', () => {
  it('is exact while flat, and survives close and reopen', async () => {
    const d = dir();
    const base = mixture.sample(1000, 1);
    const queries = mixture.sample(20, 2);
    const index = await VectorIndex.open(d, { dim: D });
    index.add(entries(base, 1, (i) => i));
    expect(index.isFlat).toBe(true);
    const truth = bruteForce(base, 1000, queries, 20, D, 10).map((t) => Array.from(t));
    expect(searchAll(index, queries, 10)).toEqual(truth);
    await index.close();
    const again = await VectorIndex.open(d, { dim: D });
    expect(again.size).toBe(1000);
    // float16 storage may swap near-ties; the sets must match.
    expect(recallAtK(truth.map((t) => Int32Array.from(t)), searchAll(again, queries, 10), 10)).toBeGreaterThanOrEqual(0.99);
    await again.close();
  });

  it('trains IVF-PQ past the flat limit and keeps recall@10 ≥ 0.95, SIMD and JS paths agreeing', async () => {
    const d = dir();
    const n = 6000;
    const base = mixture.sample(n, 3);
    const queries = mixture.sample(100, 4);
    const index = await VectorIndex.open(d, { dim: D, opq: 'off' });
    addInBatches(index, entries(base, 1, (i) => i));
    expect(index.plannedMaintenance()).toBe('train');
    expect(await index.maintain()).toBe('train');
    expect(index.isFlat).toBe(false);
    expect(index.nlist).toBe(128);
    const truth = bruteForce(base, n, queries, 100, D, 10);
    const found = searchAll(index, queries, 10, 16);
    expect(recallAtK(truth, found, 10)).toBeGreaterThanOrEqual(0.95);
    // More probes never find less.
    expect(recallAtK(truth, searchAll(index, queries, 10, 64), 10)).toBeGreaterThanOrEqual(recallAtK(truth, searchAll(index, queries, 10, 2), 10));
    await index.close();
    const simd = await VectorIndex.open(d, { dim: D });
    const plain = await VectorIndex.open(d, { dim: D, simd: false });
    for (let q = 0; q < 20; q++) {
      const v = queries.subarray(q * D, q * D + D);
      const a = simd.search(v, { k: 10, nprobe: 16 });
      const b = plain.search(v, { k: 10, nprobe: 16 });
      expect(a.map((h) => h.item)).toEqual(b.map((h) => h.item));
      a.forEach((h, i) => expect(h.distance).toBeCloseTo(b[i]!.distance, 4));
    }
    simd.abandon();
    plain.abandon();
  });

  it('bulk-loads with addMany and finds every vector as its own nearest neighbour', async () => {
    const d = dir();
    const n = 8000;
    const base = mixture.sample(n, 5);
    const index = await VectorIndex.open(d, { dim: D, opq: 'off' });
    await index.addMany({ ids: Uint32Array.from({ length: n }, (_, i) => i + 1), items: Uint32Array.from({ length: n }, (_, i) => i), regions: new Uint16Array(n), vectors: base });
    expect(index.isFlat).toBe(false);
    let self = 0;
    for (let i = 0; i < n; i += 40) if (index.search(base.subarray(i * D, i * D + D), { k: 1, nprobe: 8 })[0]?.item === i) self++;
    expect(self).toBe(n / 40);
    await index.close();
  });

  it('hides deletions at once and after reopening, and compaction drops them', async () => {
    const d = dir();
    const n = 6000;
    const base = mixture.sample(n, 6);
    const queries = mixture.sample(50, 7);
    const index = await VectorIndex.open(d, { dim: D, opq: 'off' });
    addInBatches(index, entries(base, 1, (i) => i));
    await index.maintain();
    const deleted = new Set<number>();
    for (let i = 0; i < n; i += 6) deleted.add(i + 1);
    index.remove(deleted);
    const hit = (results: number[][]): boolean => results.some((r) => r.some((item) => deleted.has(item + 1)));
    expect(hit(searchAll(index, queries, 50, 128))).toBe(false);
    await index.close();
    const again = await VectorIndex.open(d, { dim: D, opq: 'off' });
    expect(hit(searchAll(again, queries, 50, 128))).toBe(false);
    expect(again.plannedMaintenance()).toBe('compact');
    expect(await again.maintain()).toBe('compact');
    expect(again.size).toBe(n - deleted.size);
    expect(hit(searchAll(again, queries, 50, 128))).toBe(false);
    const keep = Array.from({ length: n }, (_, i) => i).filter((i) => !deleted.has(i + 1));
    const kept = new Float32Array(keep.length * D);
    keep.forEach((i, j) => kept.set(base.subarray(i * D, i * D + D), j * D));
    const truth = bruteForce(kept, keep.length, queries, 50, D, 10).map((t) => Int32Array.from(t, (j) => keep[j]!));
    expect(recallAtK(truth, searchAll(again, queries, 10, 32), 10)).toBeGreaterThanOrEqual(0.95);
    await again.close();
    // Only the current generation's files remain.
    const files = readdirSync(d);
    expect(files.filter((f) => f.endsWith('.ivf'))).toHaveLength(1);
    expect(files.some((f) => f.startsWith('tomb-'))).toBe(false);
  });

  it('returns one hit per item with its best region, or every region when asked; filters items', async () => {
    const d = dir();
    const items = 2000;
    const regions = 3;
    const vecs = mixture.sample(items * regions, 8);
    const index = await VectorIndex.open(d, { dim: D, opq: 'off' });
    const list: IndexEntry[] = [];
    for (let i = 0; i < items; i++) {
      for (let r = 0; r < regions; r++) {
        const row = i * regions + r;
        list.push({ id: row + 1, item: i, region: r, vector: vecs.subarray(row * D, row * D + D) });
      }
    }
    addInBatches(index, list);
    await index.maintain();
    expect(index.isFlat).toBe(false);
    const query = vecs.subarray((77 * regions + 2) * D, (77 * regions + 3) * D);
    const grouped = index.search(query, { k: 20, nprobe: 64 });
    expect(new Set(grouped.map((h) => h.item)).size).toBe(grouped.length);
    expect(grouped[0]).toMatchObject({ item: 77, region: 2 });
    expect(grouped[0]!.score).toBeCloseTo(1, 2);
    const all = index.search(query, { k: 20, nprobe: 64, groupByItem: false });
    expect(all.length).toBe(20);
    const even = index.search(query, { k: 20, nprobe: 64, filter: (item) => item % 2 === 0 });
    expect(even.length).toBe(20);
    expect(even.every((h) => h.item % 2 === 0)).toBe(true);
    await index.close();
  });

  it('searches through an OPQ rotation', async () => {
    const d = dir();
    const n = 6000;
    const base = mixture.sample(n, 9);
    const queries = mixture.sample(50, 10);
    const index = await VectorIndex.open(d, { dim: D, opq: 'on' });
    addInBatches(index, entries(base, 1, (i) => i));
    await index.maintain();
    expect(index.usesRotation).toBe(true);
    expect(recallAtK(bruteForce(base, n, queries, 50, D, 10), searchAll(index, queries, 10, 16), 10)).toBeGreaterThanOrEqual(0.95);
    await index.close();
    const again = await VectorIndex.open(d, { dim: D });
    expect(again.usesRotation).toBe(true);
    expect(recallAtK(bruteForce(base, n, queries, 50, D, 10), searchAll(again, queries, 10, 16), 10)).toBeGreaterThanOrEqual(0.95);
    again.abandon();
  });

  it('retrains when grown 4×, serving searches meanwhile and keeping changes made during it', async () => {
    const d = dir();
    const first = mixture.sample(FLAT_LIMIT + 904, 11);
    const index = await VectorIndex.open(d, { dim: D, opq: 'off' });
    addInBatches(index, entries(first, 1));
    await index.maintain();
    const nlistBefore = index.nlist;
    const more = mixture.sample(16_000, 12);
    addInBatches(index, entries(more, 100_001));
    expect(index.plannedMaintenance()).toBe('grown');
    const running = index.maintain();
    // While it trains: searches work, and an addition and a deletion arrive.
    const late = mixture.sample(10, 13);
    await new Promise((r) => setImmediate(r));
    expect(index.search(late.subarray(0, D), { k: 5 }).length).toBe(5);
    index.add(entries(late, 500_001));
    index.remove([100_001, 100_002]);
    expect(await running).toBe('grown');
    expect(index.nlist).toBeGreaterThan(nlistBefore);
    for (let i = 0; i < 10; i++) expect(index.search(late.subarray(i * D, i * D + D), { k: 1, nprobe: 16 })[0]?.item).toBe(500_001 + i);
    const all = index.search(more.subarray(0, D), { k: 50, nprobe: 256 }).map((h) => h.item);
    expect(all).not.toContain(100_001);
    expect(all).not.toContain(100_002);
    await index.close();
    const again = await VectorIndex.open(d, { dim: D });
    expect(again.search(late.subarray(0, D), { k: 1, nprobe: 16 })[0]?.item).toBe(500_001);
    expect(again.size).toBe(first.length / D + 16_000 + 10 - 2);
    again.abandon();
  });

  it('retrains when new vectors no longer fit the quantizer (drift)', async () => {
    const d = dir();
    const index = await VectorIndex.open(d, { dim: D, opq: 'off' });
    addInBatches(index, entries(mixture.sample(6000, 14), 1));
    await index.maintain();
    expect(index.plannedMaintenance()).toBeNull();
    // A different distribution: new topics the coarse centroids and codebooks never saw.
    const other = new Mixture({ d: D, seed: 99, topics: 5, subtopicsPerTopic: 5, topicSpread: 0.3, pointSpread: 1.2 });
    addInBatches(index, entries(other.sample(1500, 1), 10_001));
    expect(index.plannedMaintenance()).toBe('drift');
    expect(await index.maintain()).toBe('drift');
    expect(index.plannedMaintenance()).toBeNull();
    await index.close();
  });
});
