/**
 * The embedding stage of indexing on a real library: real photos, real SQLite file, real packs
 * with ONNX models run in a worker, real index files. Model switching keeps search on the old
 * vectors until the new ones cover the library.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbedProgress } from '../../main/contract/api.js';
import { MODEL_INPUT_SIZE, RENDITIONS } from '../../main/ingest/thumbnails.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';

const src = tempDir();
let packs: { clip: string; cnn: string };
let packs2: { clip: string; cnn: string };
let lib: TestLibrary;

beforeAll(() => {
  packs = writeTinyPacks(src.dir, 1);
  packs2 = writeTinyPacks(src.dir, 2);
  return () => src.cleanup();
});

afterEach(async () => {
  await lib?.close();
});

const count = (l: TestLibrary, space: string): { n: number; items: number } =>
  l.engine.internals.db.prepare('SELECT count(*) n, count(DISTINCT content_id) items FROM vectors WHERE space = ?').get(space) as { n: number; items: number };

async function photos(l: TestLibrary, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await writeImage(join(l.photos, `p${i}.jpg`), { width: 160 + i * 7, height: 120, seed: i + 1 });
}

/** A library of n photos, indexed and embedded with the tiny CLIP pack as clip-a. */
async function indexedWithClip(n: number): Promise<TestLibrary> {
  const l = testLibrary();
  await photos(l, n);
  await l.engine.importModel(packs.clip, { name: 'clip-a' });
  await indexPhotos(l);
  return l;
}

describe('embedding while indexing', () => {
  it('gives every picture vectors from the active packs, once per content, searchable in the index', async () => {
    lib = testLibrary();
    await photos(lib, 12);
    copyFileSync(join(lib.photos, 'p0.jpg'), join(lib.photos, 'copy-of-p0.jpg'));
    writeFileSync(join(lib.photos, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const clip = await lib.engine.importModel(packs.clip, { name: 'clip-a' });
    const cnn = await lib.engine.importModel(packs.cnn, { name: 'cnn-a' });
    expect([clip.active, cnn.active]).toEqual([true, true]);
    await lib.engine.addFolder(lib.photos);
    await lib.engine.scan();
    const embedded: string[] = [];
    const s = await lib.engine.index({ onEmbedded: (e) => embedded.push(`${e.space}:${e.embedded}:${e.failed}:${e.complete}`) });
    expect(s.ok).toBe(13);
    expect(s.failed).toBe(1);
    expect(embedded).toEqual(['clip.clip-a:12:0:true', 'cnn.cnn-a:12:0:true']);
    expect(count(lib, 'clip.clip-a')).toEqual({ n: 12, items: 12 });
    const cnnCount = count(lib, 'cnn.cnn-a');
    expect(cnnCount.items).toBe(12);
    expect(cnnCount.n).toBeGreaterThan(12 * 6);
    // Each picture finds itself first, through the index.
    const index = await lib.engine.internals.indexes.get('clip.clip-a', clip.embeddingDim!);
    const rows = lib.engine.internals.db.prepare(`SELECT content_id, data FROM vectors WHERE space = 'clip.clip-a'`).all() as { content_id: number; data: Buffer }[];
    for (const r of rows) {
      const v = new Float32Array(r.data.buffer.slice(r.data.byteOffset, r.data.byteOffset + r.data.length));
      expect(index.search(v, { k: 1 })[0]!.item).toBe(r.content_id);
    }
    // Regional vectors carry boxes inside the picture.
    const boxes = lib.engine.internals.db.prepare(`SELECT box_x x, box_y y, box_w w, box_h h FROM vectors WHERE space = 'cnn.cnn-a' AND region > 0`).all() as { x: number; y: number; w: number; h: number }[];
    for (const b of boxes) {
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.w).toBeLessThanOrEqual(1 + 1e-9);
      expect(b.y + b.h).toBeLessThanOrEqual(1 + 1e-9);
    }
    // Nothing left to do the second time.
    const again = await lib.engine.embed();
    expect(again.map((e) => e.embedded)).toEqual([0, 0]);
  });

  it('CLIP reads the encoders\' picture, falling back to the 1024-px thumbnail and then to the original', async () => {
    lib = testLibrary();
    await photos(lib, 3);
    await indexPhotos(lib);
    const [p0, p1, p2] = [0, 1, 2].map((i) => lib.row(join(lib.photos, `p${i}.jpg`))!);
    const thumbs = lib.engine.internals.thumbs;
    // p0's encoders' picture is replaced by another picture: its vector must be that picture's.
    await writeImage(thumbs.pathFor(p0!.hash!, MODEL_INPUT_SIZE), { width: 448, height: 336, seed: 77 });
    rmSync(thumbs.pathFor(p1!.hash!, MODEL_INPUT_SIZE));
    rmSync(thumbs.pathFor(p2!.hash!, MODEL_INPUT_SIZE));
    rmSync(thumbs.pathFor(p2!.hash!, 1024));
    await lib.engine.importModel(packs.clip, { name: 'clip-a' });
    const [summary] = await lib.engine.embed();
    expect(summary).toMatchObject({ embedded: 3, failed: 0 });
    const enc = await lib.engine.internals.encoders.clip('clip-a');
    const expected = await enc.embedImages([thumbs.pathFor(p0!.hash!, MODEL_INPUT_SIZE), thumbs.pathFor(p1!.hash!, 1024), p2!.path]);
    const stored = [p0, p1, p2].map((p) => {
      const r = lib.engine.internals.db.prepare(`SELECT data FROM vectors WHERE space = 'clip.clip-a' AND content_id = ?`)
        .get(lib.engine.internals.repos.vectors.contentId(p!.hash!)) as { data: Buffer };
      return new Float32Array(r.data.buffer.slice(r.data.byteOffset, r.data.byteOffset + r.data.length));
    });
    for (const [i, v] of stored.entries()) {
      for (const [j, x] of v.entries()) expect(x).toBeCloseTo(expected[i]![j]!, 5);
    }
    const fromThumb = (await enc.embedImages([thumbs.pathFor(p0!.hash!, 1024)]))[0]!;
    expect(Math.max(...fromThumb.map((x, j) => Math.abs(x - stored[0]![j]!)))).toBeGreaterThan(1e-3);
  });

  it('records a picture it cannot read and embeds the rest', async () => {
    lib = testLibrary();
    await photos(lib, 5);
    await indexPhotos(lib);
    await lib.engine.importModel(packs.clip, { name: 'clip-a' });
    // One picture lost its stored renditions and its file became unreadable.
    const victim = lib.row(join(lib.photos, 'p2.jpg'))!;
    for (const r of RENDITIONS) rmSync(lib.engine.internals.thumbs.pathFor(victim.hash!, r.size));
    writeFileSync(victim.path, 'garbage');
    const [summary] = await lib.engine.embed();
    expect(summary).toMatchObject({ embedded: 4, failed: 1, complete: true });
    const failure = lib.engine.internals.db.prepare('SELECT error FROM embed_failures WHERE hash = ?').get(victim.hash) as { error: string };
    expect(failure.error).toMatch(/cannot read the picture/);
    // Not retried on every run.
    expect((await lib.engine.embed())[0]).toMatchObject({ embedded: 0, failed: 0 });
  });

  it('switching the active pack keeps search on the old vectors until the new ones cover the library', async () => {
    lib = await indexedWithClip(10);
    expect(lib.engine.internals.spaces.serving('clip')).toBe('clip.clip-a');
    const b = await lib.engine.importModel(packs2.clip, { name: 'clip-b' });
    expect(b.active).toBe(false);
    await lib.engine.useModel('clip-b');
    // Interrupted after the first batch: search still serves the old, complete space.
    const ctl = new AbortController();
    const seen: EmbedProgress[] = [];
    const partial = await lib.engine.embed({ batchSize: 3, signal: ctl.signal, onEmbedProgress: (p) => { seen.push(p); ctl.abort(); } });
    // Stopped after the batches already running (one per inference worker) were committed.
    expect(partial[0]).toMatchObject({ space: 'clip.clip-b', complete: false });
    const first = partial[0]!.embedded;
    expect(first).toBeGreaterThanOrEqual(3);
    expect(first).toBeLessThan(10);
    expect(lib.engine.internals.spaces.serving('clip')).toBe('clip.clip-a');
    expect(count(lib, 'clip.clip-a').n).toBe(10);
    expect(count(lib, 'clip.clip-b').n).toBe(first);
    const models = await lib.engine.listModels();
    expect(models.find((m) => m.name === 'clip-a')).toMatchObject({ active: false, serving: true });
    expect(models.find((m) => m.name === 'clip-b')).toMatchObject({ active: true, serving: false });
    // Finished: the new space serves, the old one is gone from SQLite and from disk.
    const [done] = await lib.engine.embed();
    expect(done).toMatchObject({ embedded: 10 - first, complete: true });
    expect(lib.engine.internals.spaces.serving('clip')).toBe('clip.clip-b');
    expect(count(lib, 'clip.clip-a').n).toBe(0);
    expect(existsSync(join(lib.engine.libraryDir, 'index', 'clip.clip-a'))).toBe(false);
    expect(existsSync(join(lib.engine.libraryDir, 'index', 'clip.clip-b'))).toBe(true);
    await expect(lib.engine.removeModel('clip-b')).rejects.toThrow(/active clip model/);
    await lib.engine.removeModel('clip-a');
    expect((await lib.engine.listModels()).find((m) => m.name === 'clip-a')).toBeUndefined();
  });

  it("drops a picture's vectors when no photo has its content any more", async () => {
    lib = await indexedWithClip(4);
    expect(count(lib, 'clip.clip-a').n).toBe(4);
    await lib.engine.removeFolder(lib.photos);
    await lib.engine.embed();
    expect(count(lib, 'clip.clip-a').n).toBe(0);
    const index = await lib.engine.internals.indexes.get('clip.clip-a', 24);
    expect(index.size).toBe(0);
  });

  it('learns a (shrunk) PCA-whitening from the library once it is big enough and serves the whitened descriptors', async () => {
    lib = testLibrary({ whiten: { minPictures: 10, outputDim: 32 } });
    await photos(lib, 9);
    await lib.engine.importModel(packs.cnn, { name: 'cnn-a' });
    await indexPhotos(lib);
    // Nine pictures: too few to learn from; the raw descriptors serve.
    expect(lib.engine.internals.spaces.serving('cnn')).toBe('cnn.cnn-a');
    expect(count(lib, 'cnn.cnn-a.w1').n).toBe(0);
    expect((await lib.engine.listModels()).find((m) => m.name === 'cnn-a')!.learned).toMatch(/^raw descriptors: the library is too small yet/);
    await writeImage(join(lib.photos, 'p9.jpg'), { width: 200, height: 150, seed: 99 });
    await lib.engine.scan();
    await lib.engine.index();
    expect(lib.engine.internals.spaces.serving('cnn')).toBe('cnn.cnn-a.w1');
    const raw = count(lib, 'cnn.cnn-a');
    expect(count(lib, 'cnn.cnn-a.w1')).toEqual(raw);
    const w = lib.engine.internals.db.prepare('SELECT input_dim, output_dim, pictures, vectors, shrinkage FROM whitenings').get() as Record<string, number>;
    // A small library's covariance is shrunk towards the identity (a = 10,000 / (10,000 + n)), in the descriptors' own dimension.
    expect(w).toEqual({ input_dim: 96, output_dim: 96, pictures: 10, vectors: raw.n, shrinkage: expect.closeTo(10_000 / (10_000 + raw.n), 6) });
    // Whitened vectors: unit length, boxes kept, and each picture's global vector finds itself.
    const rows = lib.engine.internals.db.prepare(`SELECT content_id, region, box_w, data FROM vectors WHERE space = 'cnn.cnn-a.w1' ORDER BY content_id, region`).all() as { content_id: number; region: number; box_w: number; data: Buffer }[];
    const index = await lib.engine.internals.indexes.get('cnn.cnn-a.w1', 96);
    for (const r of rows) {
      const v = new Float32Array(r.data.buffer.slice(r.data.byteOffset, r.data.byteOffset + r.data.length));
      expect(v.length).toBe(96);
      expect(Math.hypot(...v)).toBeCloseTo(1, 4);
      expect(r.box_w).toBeGreaterThan(0);
      if (r.region === 0) expect(index.search(v, { k: 1 })[0]!.item).toBe(r.content_id);
    }
    expect((await lib.engine.listModels()).find((m) => m.name === 'cnn-a')).toMatchObject({ active: true, serving: true });
  });

  it('shrinkage none: the truncated PCA-whitening of the literature, at its output dimension', async () => {
    lib = testLibrary({ whiten: { minPictures: 4, outputDim: 32, shrinkage: 'none' } });
    await photos(lib, 5);
    await lib.engine.importModel(packs.cnn, { name: 'cnn-a' });
    await indexPhotos(lib);
    expect(lib.engine.internals.spaces.serving('cnn')).toBe('cnn.cnn-a.w1');
    const w = lib.engine.internals.db.prepare('SELECT output_dim, shrinkage FROM whitenings').get() as Record<string, number | null>;
    expect(w).toEqual({ output_dim: 32, shrinkage: null });
  });

  it('adapts a light projection to the library on top of the whitening; marks learn it again; no other space changes', async () => {
    lib = testLibrary({ whiten: { minPictures: 4 } });
    await photos(lib, 6);
    await lib.engine.importModel(packs.clip, { name: 'clip-a' });
    await lib.engine.importModel(packs.cnn, { name: 'cnn-a' });
    await indexPhotos(lib);
    const db = lib.engine.internals.db;
    type Row = { space: string; version: number; output_dim: number; adaptation: Buffer; adaptation_target: string; marks_state: string; marked_pairs: number };
    const whitening = (): Row => db.prepare('SELECT * FROM whitenings ORDER BY version DESC LIMIT 1').get() as Row;
    const floats = (b: Buffer): Float32Array => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    const first = whitening();
    expect(first).toMatchObject({ space: 'cnn.cnn-a.w1', adaptation_target: 'views', marked_pairs: 0 });
    const a = floats(first.adaptation);
    expect(a.length).toBe(first.output_dim ** 2);
    // Trained: no longer the identity, yet near it (the projection is light).
    let off = 0;
    for (let i = 0; i < first.output_dim; i++) for (let j = 0; j < first.output_dim; j++) off += (a[i * first.output_dim + j]! - (i === j ? 1 : 0)) ** 2;
    expect(Math.sqrt(off)).toBeGreaterThan(0.01);
    expect(Math.sqrt(off)).toBeLessThan(Math.sqrt(first.output_dim));
    // The served vectors are the raw ones whitened and adapted, as a query's are.
    const info = lib.engine.internals.spaces.info('cnn')!;
    expect(info.space).toBe('cnn.cnn-a.w1');
    const vectors = (space: string): Map<string, Float32Array> => new Map((db.prepare('SELECT content_id, region, data FROM vectors WHERE space = ?').all(space) as { content_id: number; region: number; data: Buffer }[])
      .map((r) => [`${r.content_id}:${r.region}`, floats(r.data)]));
    const raw = vectors('cnn.cnn-a');
    const served = vectors('cnn.cnn-a.w1');
    for (const [key, v] of raw) {
      const expected = info.whiten!(v);
      const got = served.get(key)!;
      let dot = 0;
      for (let i = 0; i < got.length; i++) dot += got[i]! * expected[i]!;
      expect(dot).toBeCloseTo(1, 4);
    }
    const learned = async (): Promise<string | null> => (await lib.engine.listModels()).find((m) => m.name === 'cnn-a')!.learned;
    expect(await learned()).toBe('whitened from 6 pictures, adapted to this library from its pictures\' regions');
    expect((await lib.engine.listModels()).find((m) => m.name === 'clip-a')!.learned).toBeNull();
    const clipBefore = vectors('clip.clip-a');
    expect(clipBefore.size).toBe(6);

    // Two photos marked as the same object: the next run learns again with them.
    const ids = (await lib.engine.search({ limit: 10 })).hits.map((h) => h.photo.id);
    await expect(lib.engine.markSame([ids[0]!])).rejects.toThrow(/at least two/);
    await expect(lib.engine.markSame([ids[0]!, 999_999])).rejects.toThrow(/no photo 999999/);
    const group = await lib.engine.markSame([ids[0]!, ids[1]!]);
    expect(await lib.engine.listSameGroups()).toEqual([group]);
    const content = (id: number): number => (db.prepare('SELECT c.id FROM photos p JOIN contents c ON c.hash = p.hash WHERE p.id = ?').get(id) as { id: number }).id;
    const cosine = (m: Map<string, Float32Array>): number => {
      const x = m.get(`${content(ids[0]!)}:0`)!;
      const y = m.get(`${content(ids[1]!)}:0`)!;
      return x.reduce((s, v, i) => s + v * y[i]!, 0);
    };
    await lib.engine.index();
    const second = whitening();
    expect(second).toMatchObject({ space: 'cnn.cnn-a.w2', adaptation_target: 'views', marked_pairs: 1 });
    expect(second.marks_state).not.toBe(first.marks_state);
    expect(lib.engine.internals.spaces.serving('cnn')).toBe('cnn.cnn-a.w2');
    expect(count(lib, 'cnn.cnn-a.w1').n).toBe(0);
    expect(await learned()).toMatch(/ and 1 pair you marked the same$/);
    // The marked pictures came closer; the CLIP space is byte for byte what it was.
    expect(cosine(vectors('cnn.cnn-a.w2'))).toBeGreaterThan(cosine(served));
    expect(vectors('clip.clip-a')).toEqual(clipBefore);
    // Nothing changed since: the next run learns nothing.
    await lib.engine.index();
    expect(whitening().version).toBe(2);
    // Unmarking is a change too.
    expect(await lib.engine.unmarkSame([ids[1]!])).toEqual({ removed: 2 });
    expect(await lib.engine.listSameGroups()).toEqual([]);
    await lib.engine.index();
    expect(whitening()).toMatchObject({ version: 3, marked_pairs: 0 });
  });

  it("adapt 'none': the whitening alone", async () => {
    lib = testLibrary({ whiten: { minPictures: 4, adapt: 'none' } });
    await photos(lib, 5);
    await lib.engine.importModel(packs.cnn, { name: 'cnn-a' });
    await indexPhotos(lib);
    expect(db(lib).prepare('SELECT adaptation, adaptation_target FROM whitenings').get()).toEqual({ adaptation: null, adaptation_target: null });
  });

  it('a training that diverges leaves the identity in its place, never non-numbers in the index', async () => {
    lib = testLibrary({ whiten: { minPictures: 4, adaptation: { learningRate: 1e30, steps: 5 } } });
    await photos(lib, 5);
    await lib.engine.importModel(packs.cnn, { name: 'cnn-a' });
    await indexPhotos(lib);
    const row = db(lib).prepare('SELECT output_dim, adaptation FROM whitenings').get() as { output_dim: number; adaptation: Buffer };
    const a = new Float32Array(row.adaptation.buffer.slice(row.adaptation.byteOffset, row.adaptation.byteOffset + row.adaptation.length));
    expect(a.every((v, i) => v === (i % (row.output_dim + 1) === 0 ? 1 : 0))).toBe(true);
    const hits = await lib.engine.search({ photo: { id: 1 }, mode: 'same', limit: 5 });
    expect(hits.hits.length).toBeGreaterThanOrEqual(4);
    expect(hits.hits.every((h) => Number.isFinite(h.score))).toBe(true);
  });
});

function db(l: TestLibrary): TestLibrary['engine']['internals']['db'] {
  return l.engine.internals.db;
}
