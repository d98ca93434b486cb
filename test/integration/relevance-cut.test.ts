/**
 * The relevance cut-off of a CLIP-style pack in the engine, on a real SQLite library of 60
 * photos: a sentence's results end exactly where the library's null says — its threshold computed
 * here from the library's own vectors, the 48 random captions and the query, with the pure
 * functions of search/relevance.ts — `all` ranks the rest after them in the same order, and a
 * library under 50 pictures is not cut.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fillTemplate, wantsPrompts } from '../../main/search/query.js';
import { QUERY_TEMPLATES } from '../../main/search/query-vectors.js';
import { weightedMean } from '../../main/search/rank.js';
import { calibrateNull, NULL_CAPTIONS, NULL_MIN_PICTURES, nullThreshold } from '../../main/search/relevance.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';

const src = tempDir();
let lib: TestLibrary;
const PHOTOS = 60;

/** A sentence's vector as search makes it: prompt-ensembled when short. */
async function sentence(text: string): Promise<Float32Array> {
  const texts = wantsPrompts(text) ? QUERY_TEMPLATES.map((t) => fillTemplate(t, text)) : [text];
  return weightedMean(await lib.engine.inspect.embedTexts(texts));
}

beforeAll(async () => {
  lib = testLibrary();
  await lib.engine.setPreferences({ readText: false });
  for (let i = 0; i < PHOTOS; i++) await writeImage(join(lib.photos, `p${String(i).padStart(2, '0')}.jpg`), { width: 96, height: 72, seed: 300 + i });
  await lib.engine.importModel(writeTinyPacks(src.dir, 7).clip, { name: 'clip' });
  await indexPhotos(lib);
}, 180_000);

afterAll(async () => {
  await lib?.close();
  src.cleanup();
});

describe('relevance cut-off of a CLIP-style pack', () => {
  it('ends each sentence where the library’s null says, and ranks the rest after it when all are asked for', async () => {
    const ids = (await lib.engine.search({ sort: 'newest', limit: 100 })).hits.map((h) => h.photo.id);
    expect(ids.length).toBe(PHOTOS);
    const sample = ids.map((id) => lib.engine.inspect.photoVector(id, 'clip')!);
    const nulls: Float32Array[] = [];
    for (const c of NULL_CAPTIONS) nulls.push(await sentence(c));
    const k = calibrateNull(nulls, sample);
    let cutSome = 0;
    for (const text of ['a red car', 'two kids building a sandcastle at sunset', 'waves', 'a bowl of ramen with an egg.']) {
      const all = await lib.engine.search({ text, all: true, limit: 100 });
      const cut = await lib.engine.search({ text, limit: 100 });
      expect(all.total).toBe(PHOTOS);
      expect(all.beyond ?? 0).toBe(0);
      const threshold = nullThreshold(await sentence(text), sample, k);
      const kept = all.hits.filter((h) => h.score >= threshold - 1e-6).length;
      expect(cut.total, text).toBe(kept);
      expect(cut.beyond ?? 0).toBe(PHOTOS - kept);
      // The same order; the cut only ends it.
      expect(cut.hits.map((h) => h.photo.id)).toEqual(all.hits.slice(0, kept).map((h) => h.photo.id));
      if (kept < PHOTOS) cutSome++;
    }
    expect(cutSome).toBeGreaterThan(0);
  }, 120_000);

  it('leaves a library under 50 pictures uncut', async () => {
    const small = testLibrary();
    try {
      await small.engine.setPreferences({ readText: false });
      for (let i = 0; i < NULL_MIN_PICTURES - 10; i++) await writeImage(join(small.photos, `q${i}.jpg`), { width: 64, height: 48, seed: 500 + i });
      await small.engine.importModel(writeTinyPacks(join(src.dir, 'small'), 7).clip, { name: 'clip' });
      await indexPhotos(small);
      const r = await small.engine.search({ text: 'a red car', limit: 100 });
      expect(r.total).toBe(NULL_MIN_PICTURES - 10);
      expect(r.beyond ?? 0).toBe(0);
    } finally {
      await small.close();
    }
  }, 120_000);
});
