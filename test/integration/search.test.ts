/**
 * Search on a real library: generated JPEG/PNG photos with EXIF, real tiny CLIP and CNN packs run
 * by onnxruntime-node, the real SQLite file and index. Rankings are checked against an exact
 * computation done here from the stored vectors and the encoders, independently of the engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { SearchResponse } from '../../main/contract/api.js';
import { QUERY_TEMPLATES } from '../../main/search/search.js';
import { UserError } from '../../main/contract/errors.js';
import { loadTaxonomy } from '../../main/search/taxonomies.js';
import { classify } from '../../main/search/zero-shot.js';
import { imageBuffer, tempDir } from '../helpers/fixtures.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';

const src = tempDir();
let lib: TestLibrary;
let clipDim = 0;

/** A photo of mostly one colour, with seeded texture, so colours cluster and seeds differ. */
async function colourPhoto(rgb: readonly [number, number, number], seed: number, width = 320, height = 240): Promise<Sharp> {
  const px = Buffer.alloc(width * height * 3);
  let s = seed * 7919 + 1;
  for (let i = 0; i < width * height; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const n = (s >> 16) % 40;
    for (let c = 0; c < 3; c++) px[i * 3 + c] = Math.max(0, Math.min(255, rgb[c]! + n - 20));
  }
  // A few seeded blocks of the complementary colour, so same-colour photos still differ in layout.
  for (let b = 0; b < 4; b++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const bx = s % (width - 60);
    s = (s * 1103515245 + 12345) % 2147483648;
    const by = s % (height - 60);
    for (let y = by; y < by + 50; y++) for (let x = bx; x < bx + 50; x++) for (let c = 0; c < 3; c++) px[(y * width + x) * 3 + c] = 255 - rgb[c]!;
  }
  return sharp(px, { raw: { width, height, channels: 3 } });
}

const RED = [200, 30, 30] as const;
const BLUE = [30, 40, 200] as const;
const GREEN = [30, 180, 40] as const;

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
const unit = (v: Float32Array): Float32Array => {
  const n = Math.sqrt(dot(v, v));
  return v.map((x) => x / n);
};
const mean = (vs: readonly Float32Array[], w?: readonly number[]): Float32Array => {
  const out = new Float32Array(vs[0]!.length);
  vs.forEach((v, j) => v.forEach((x, i) => { out[i]! += (w?.[j] ?? 1) * x; }));
  return unit(out);
};

function stored(space: string): Map<number, Float32Array> {
  const rows = lib.engine.internals.db.prepare('SELECT content_id, data FROM vectors WHERE space = ? AND region = 0').all(space) as { content_id: number; data: Buffer }[];
  return new Map(rows.map((r) => [r.content_id, new Float32Array(r.data.buffer.slice(r.data.byteOffset, r.data.byteOffset + r.data.length))]));
}

function photoIdsOfContent(): Map<number, number[]> {
  const rows = lib.engine.internals.db.prepare(`SELECT c.id AS cid, p.id AS pid FROM photos p JOIN contents c ON c.hash = p.hash WHERE p.state = 'ok' ORDER BY p.id`).all() as { cid: number; pid: number }[];
  const m = new Map<number, number[]>();
  for (const r of rows) m.set(r.cid, [...(m.get(r.cid) ?? []), r.pid]);
  return m;
}

/**
 * The hits are exactly the pictures expected, in the order of the score computed here, up to the
 * index's float16 storage (near-ties may swap within `tol`), and their scores agree with it.
 */
function expectRanked(r: SearchResponse, score: (v: Float32Array, content: number) => number, exclude?: number, tol = 3e-3): void {
  const vs = stored('clip.clip-a');
  const independent = r.hits.map((h) => score(vs.get(contentOf(h.photo.id))!, contentOf(h.photo.id)));
  expect([...ids(r)].sort((a, b) => a - b)).toEqual([...expectedOrder(score, exclude)].sort((a, b) => a - b));
  for (let i = 1; i < independent.length; i++) expect(independent[i]!).toBeLessThan(independent[i - 1]! + tol);
  r.hits.forEach((h, i) => expect(Math.abs(h.score - independent[i]!)).toBeLessThan(tol));
}

/** Photo ids in the order an exact ranking by `score(content vector)` gives (ties by photo id). */
function expectedOrder(score: (v: Float32Array, content: number) => number, exclude?: number): number[] {
  const byContent = photoIdsOfContent();
  const list: { id: number; s: number }[] = [];
  for (const [cid, v] of stored('clip.clip-a')) {
    if (cid === exclude) continue;
    for (const pid of byContent.get(cid) ?? []) list.push({ id: pid, s: score(v, cid) });
  }
  return list.sort((a, b) => b.s - a.s || a.id - b.id).map((x) => x.id);
}

const ids = (r: SearchResponse): number[] => r.hits.map((h) => h.photo.id);
const idOf = (name: string): number => (lib.engine.internals.db.prepare('SELECT id FROM photos WHERE path LIKE ?').get(`%/${name}`) as { id: number }).id;
const contentOf = (photoId: number): number =>
  (lib.engine.internals.db.prepare('SELECT c.id FROM photos p JOIN contents c ON c.hash = p.hash WHERE p.id = ?').get(photoId) as { id: number }).id;

beforeAll(async () => {
  const packs = writeTinyPacks(src.dir, 1);
  lib = testLibrary();
  const p = lib.photos;
  mkdirSync(join(p, 'a'), { recursive: true });
  mkdirSync(join(p, 'b'), { recursive: true });
  mkdirSync(join(p, 'Lisbon 2019'), { recursive: true });
  const colours = [RED, BLUE, GREEN];
  for (let i = 0; i < 12; i++) {
    const rgb = colours[i % 3]!;
    const portrait = i % 4 === 3;
    const img = await colourPhoto(rgb, i + 1, portrait ? 240 : 320, portrait ? 320 : 240);
    const exif = {
      IFD0: { Make: i % 2 === 0 ? 'Nikon' : 'Canon', Model: i % 2 === 0 ? 'Z6' : 'R5' },
      IFD2: { DateTimeOriginal: `2023:0${1 + (i % 6)}:1${i % 10} 10:00:00` },
      ...(i < 3 ? { IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '38/1 42/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '9/1 8/1 0/1' } } : {}),
    };
    const dir = i < 6 ? 'a' : 'b';
    if (i === 11) await img.withExif(exif).png().toFile(join(p, dir, `p${i}.png`));
    else await img.withExif(exif).jpeg({ quality: 90 }).toFile(join(p, dir, `p${i}.jpg`));
  }
  // A copy (same content) and a re-encoded near-duplicate of p0.
  copyFileSync(join(p, 'a', 'p0.jpg'), join(p, 'b', 'copy-of-p0.jpg'));
  await sharp(join(p, 'a', 'p0.jpg')).jpeg({ quality: 60 }).toFile(join(p, 'b', 'p0-small.jpg'));
  // Name matches.
  await (await colourPhoto([120, 120, 120], 50)).jpeg().toFile(join(p, 'Lisbon 2019', 'tram.jpg'));
  // Region search: one object pasted into two different scenes, top-left and bottom-right.
  const object = await imageBuffer({ width: 256, height: 256, seed: 11 });
  const sceneA = await imageBuffer({ width: 512, height: 512, seed: 2 });
  const sceneB = await imageBuffer({ width: 512, height: 512, seed: 3 });
  await sharp(sceneA).composite([{ input: object, left: 0, top: 0 }]).jpeg({ quality: 92 }).toFile(join(p, 'a', 'scene-a.jpg'));
  await sharp(sceneB).composite([{ input: object, left: 256, top: 256 }]).jpeg({ quality: 92 }).toFile(join(p, 'b', 'scene-b.jpg'));
  writeFileSync(join(p, 'b', 'scene-c.jpg'), await imageBuffer({ width: 512, height: 512, seed: 4 }));

  const clip = await lib.engine.importModel(packs.clip, { name: 'clip-a' });
  await lib.engine.importModel(packs.cnn, { name: 'cnn-a' });
  clipDim = clip.embeddingDim!;
  await lib.engine.addFolder(p);
  await lib.engine.scan();
  const s = await lib.engine.index();
  expect(s.failed).toBe(0);
}, 120_000);

afterAll(async () => {
  await lib?.close();
  src.cleanup();
});

describe('sentence search', () => {
  it('ranks every picture by the prompt-ensembled short query, exactly', async () => {
    const enc = await lib.engine.internals.encoders.clip('clip-a');
    const q = mean(await enc.embedTexts(QUERY_TEMPLATES.map((t) => t.replace('{}', 'red apple'))));
    const r = await lib.engine.search({ text: 'red apple', limit: 100 });
    expect(r.space).toBe('clip.clip-a');
    expectRanked(r, (v) => dot(q, v));
    expect(r.total).toBe(18);
  });

  it('a long sentence is used as it is', async () => {
    const enc = await lib.engine.internals.encoders.clip('clip-a');
    const text = 'two kids building a sandcastle at sunset';
    const [q] = await enc.embedTexts([text]);
    const r = await lib.engine.search({ text, limit: 100 });
    expectRanked(r, (v) => dot(q!, v));
  });

  it('negative terms lower the pictures that show them more than the library does', async () => {
    const enc = await lib.engine.internals.encoders.clip('clip-a');
    const q = mean(await enc.embedTexts(QUERY_TEMPLATES.map((t) => t.replace('{}', 'beach'))));
    const n = mean(await enc.embedTexts(QUERY_TEMPLATES.map((t) => t.replace('{}', 'people'))));
    const vs = stored('clip.clip-a');
    const base = [...vs.values()].reduce((a, v) => a + dot(n, v), 0) / vs.size;
    const r = await lib.engine.search({ text: 'beach -people', limit: 100 });
    expectRanked(r, (v) => dot(q, v) - Math.max(0, dot(n, v) - base));
  });

  it('file and folder names match first, marked as name matches, with the photos taken in the place the word names', async () => {
    const r = await lib.engine.search({ text: 'lisbon', limit: 10 });
    const named = r.hits.filter((h) => h.matchedName);
    // The folder "Lisbon 2019", and every photo whose GPS is in Lisbon (p0–p2 and p0's copy).
    expect(named.map((h) => h.photo.path.slice(lib.photos.length + 1)).sort()).toEqual(['Lisbon 2019/tram.jpg', 'a/p0.jpg', 'a/p1.jpg', 'a/p2.jpg', 'b/copy-of-p0.jpg']);
    expect(r.hits.slice(0, named.length).every((h) => h.matchedName)).toBe(true);
    // The name match is counted once, not also as a picture match.
    expect(r.total).toBe(18);
    const all = await lib.engine.search({ text: 'lisbon', limit: 100 });
    expect(new Set(ids(all)).size).toBe(18);
    const q = await lib.engine.search({ text: '"p0-small"', limit: 3 });
    expect(q.hits[0]!.photo.path).toMatch(/p0-small\.jpg$/);
  });

  it('pages are stable: concatenated pages are the full ranking', async () => {
    const full = ids(await lib.engine.search({ text: 'green grass', limit: 100 }));
    const pages: number[] = [];
    for (let off = 0; off < full.length; off += 4) pages.push(...ids(await lib.engine.search({ text: 'green grass', offset: off, limit: 4 })));
    expect(pages).toEqual(full);
    expect(new Set(pages).size).toBe(pages.length);
  });
});

describe('photo search', () => {
  it('by a library photo: itself and its copies left out, the re-encoded version first, exact order', async () => {
    const p0 = idOf('a/p0.jpg');
    const r = await lib.engine.search({ photo: { id: p0 }, limit: 100 });
    const q = stored('clip.clip-a').get(contentOf(p0))!;
    expectRanked(r, (v) => dot(q, v), contentOf(p0));
    expect(ids(r)).not.toContain(idOf('b/copy-of-p0.jpg'));
    expect(r.hits[0]!.photo.path).toMatch(/p0-small\.jpg$/);
  });

  it('by a file from outside the library, as a path or as bytes: never added, its twin in the library first', async () => {
    const outside = join(src.dir, 'outside.jpg');
    copyFileSync(join(lib.photos, 'b', 'p7.jpg'), outside);
    const before = (lib.engine.internals.db.prepare('SELECT count(*) n FROM photos').get() as { n: number }).n;
    const byPath = await lib.engine.search({ photo: { path: outside }, limit: 5 });
    const byBytes = await lib.engine.search({ photo: { bytes: readFileSync(outside).toString('base64') }, limit: 5 });
    expect(ids(byPath)).toEqual(ids(byBytes));
    expect(byPath.hits[0]!.photo.path).toMatch(/p7\.jpg$/);
    expect(byPath.hits[0]!.score).toBeGreaterThan(0.99);
    expect((lib.engine.internals.db.prepare('SELECT count(*) n FROM photos').get() as { n: number }).n).toBe(before);
  });

  it('an unreadable dropped file is a clear error', async () => {
    await expect(lib.engine.search({ photo: { bytes: Buffer.from('not an image').toString('base64') } })).rejects.toThrow(/could not read the example photo/);
  });

  it('text + photo mixes the two by the weight', async () => {
    const p3 = idOf('a/p3.jpg');
    const enc = await lib.engine.internals.encoders.clip('clip-a');
    const t = mean(await enc.embedTexts(QUERY_TEMPLATES.map((x) => x.replace('{}', 'in winter'))));
    const p = stored('clip.clip-a').get(contentOf(p3))!;
    const q = mean([p, t], [0.7, 0.3]);
    const r = await lib.engine.search({ photo: { id: p3 }, text: 'in winter', textWeight: 0.3, limit: 100 });
    expectRanked(r, (v) => dot(q, v), contentOf(p3));
  });

  it('same object (CNN descriptors): the near-duplicate first; expansion and diffusion re-rank the same set', async () => {
    const p0 = idOf('a/p0.jpg');
    const plain = await lib.engine.search({ photo: { id: p0 }, mode: 'same', expand: false, limit: 100 });
    expect(plain.space).toBe('cnn.cnn-a');
    expect(plain.hits[0]!.photo.path).toMatch(/p0-small\.jpg$/);
    // Asked for (in a raw space it is off by default); with this random-weight CNN every red photo
    // is ≥ 0.99 alike, so the expanded query moves to the red cluster's centre: still red first.
    const expanded = await lib.engine.search({ photo: { id: p0 }, mode: 'same', expand: true, limit: 100 });
    const reds = ['p0-small.jpg', 'p3.jpg', 'p6.jpg', 'p9.jpg'];
    expect(expanded.hits.slice(0, 4).map((h) => h.photo.path.split('/').pop()).sort()).toEqual(reds);
    const d = await lib.engine.search({ photo: { id: p0 }, mode: 'same', diffusion: true, limit: 100 });
    expect([...ids(d)].sort()).toEqual([...ids(expanded)].sort());
    expect(ids(expanded)).not.toContain(p0);
  });
});

describe('region search', () => {
  it('finds the object drawn on one photo in another, boxed where it is', async () => {
    const a = idOf('a/scene-a.jpg');
    const r = await lib.engine.search({ region: { photoId: a, box: { x: 0, y: 0, w: 0.5, h: 0.5 } }, limit: 5 });
    expect(r.space).toBe('cnn.cnn-a');
    const hit = r.hits[0]!;
    expect(hit.photo.path).toMatch(/scene-b\.jpg$/);
    expect(ids(r)).not.toContain(a);
    expect(hit.box).not.toBeNull();
    // Most of the found box lies on the object (the bottom-right quarter of scene B).
    const b = hit.box!;
    const inter = Math.max(0, Math.min(b.x + b.w, 1) - Math.max(b.x, 0.5)) * Math.max(0, Math.min(b.y + b.h, 1) - Math.max(b.y, 0.5));
    expect(inter / (b.w * b.h)).toBeGreaterThanOrEqual(0.5);
  });
});

describe('filters, sorting, browsing', () => {
  const all = (): { id: number; path: string; taken_at_ms: number | null; camera_make: string | null; width: number; height: number; format: string; gps_lat: number | null; folder: string }[] =>
    lib.engine.internals.db.prepare(`SELECT p.id, p.path, p.taken_at_ms, p.camera_make, p.width, p.height, p.format, p.gps_lat, p.folder_id AS folder FROM photos p WHERE state = 'ok'`).all() as never;

  it('each filter keeps exactly the photos that satisfy it, for sentence queries and browsing alike', async () => {
    const from = Date.UTC(2023, 2, 1);
    const to = Date.UTC(2023, 4, 1);
    const cases: [object, (p: ReturnType<typeof all>[number]) => boolean][] = [
      [{ from, to }, (p) => p.taken_at_ms !== null && p.taken_at_ms >= from && p.taken_at_ms <= to],
      [{ camera: 'nikon' }, (p) => p.camera_make === 'Nikon'],
      [{ orientation: 'portrait' }, (p) => p.height > p.width],
      [{ formats: ['png'] }, (p) => p.format === 'png'],
      [{ hasLocation: true }, (p) => p.gps_lat !== null],
    ];
    for (const [filters, pred] of cases) {
      const want = all().filter(pred).map((p) => p.id).sort((x, y) => x - y);
      expect(want.length).toBeGreaterThan(0);
      const browse = await lib.engine.search({ filters, limit: 100 });
      expect(ids(browse).sort((x, y) => x - y)).toEqual(want);
      expect(browse.total).toBe(want.length);
      const text = await lib.engine.search({ text: 'a dog on the beach', filters, limit: 100 });
      expect(ids(text).sort((x, y) => x - y)).toEqual(want);
    }
  });

  it('sorts by date either way, undated last; browsing defaults to newest first', async () => {
    const r = await lib.engine.search({ text: 'something', sort: 'oldest', limit: 100 });
    const dates = r.hits.map((h) => h.photo.takenAtMs);
    const dated = dates.filter((d): d is number => d !== null);
    expect(dated).toEqual([...dated].sort((a, b) => a - b));
    const browse = await lib.engine.search({ limit: 100 });
    const bd = browse.hits.map((h) => h.photo.takenAtMs).filter((d): d is number => d !== null);
    expect(bd).toEqual([...bd].sort((a, b) => b - a));
    expect(browse.space).toBeNull();
    // Every photo here has a date (EXIF or the file's); take one away and it sorts last either way.
    const undated = idOf('a/p2.jpg');
    const db = lib.engine.internals.db;
    const { taken_at_ms: was } = db.prepare('SELECT taken_at_ms FROM photos WHERE id = ?').get(undated) as { taken_at_ms: number };
    db.prepare('UPDATE photos SET taken_at_ms = NULL WHERE id = ?').run(undated);
    try {
      for (const sort of ['newest', 'oldest'] as const) {
        for (const req of [{ text: 'something', sort }, { sort }]) {
          const hits = (await lib.engine.search({ ...req, limit: 100 })).hits;
          expect(hits.length).toBeGreaterThan(2);
          expect(hits[hits.length - 1]!.photo.id, `${JSON.stringify(req)}`).toBe(undated);
        }
      }
    } finally {
      db.prepare('UPDATE photos SET taken_at_ms = ? WHERE id = ?').run(was, undated);
    }
  });

  it('a folder filter and an album filter', async () => {
    const folder = lib.engine.folderRows()[0]!.id;
    // A second folder, so the filter has something to leave out.
    const other = join(lib.root, 'other-folder');
    mkdirSync(other, { recursive: true });
    await (await colourPhoto(RED, 77)).jpeg().toFile(join(other, 'elsewhere-1.jpg'));
    await (await colourPhoto(BLUE, 78)).jpeg().toFile(join(other, 'elsewhere-2.jpg'));
    const second = (await lib.engine.addFolder(other)).id;
    try {
      await lib.engine.scan();
      expect((await lib.engine.index()).failed).toBe(0);
      const inSecond = await lib.engine.search({ text: 'x', filters: { folders: [second] }, limit: 100 });
      expect(inSecond.hits.map((h) => h.photo.path.split('/').pop()).sort()).toEqual(['elsewhere-1.jpg', 'elsewhere-2.jpg']);
      expect((await lib.engine.search({ text: 'x', filters: { folders: [folder] }, limit: 100 })).total).toBe(18);
      expect((await lib.engine.search({ text: 'x', filters: { folders: [folder, second] }, limit: 100 })).total).toBe(20);
    } finally {
      await lib.engine.removeFolder(other);
    }
    expect((await lib.engine.search({ text: 'x', filters: { folders: [folder] }, limit: 100 })).total).toBe(18);
    const album = await lib.engine.createAlbum('filter test');
    await lib.engine.addToAlbum(album.id, [idOf('a/p1.jpg'), idOf('b/p8.jpg')]);
    const r = await lib.engine.search({ text: 'red', filters: { albums: [album.id] }, limit: 100 });
    expect(ids(r).sort((x, y) => x - y)).toEqual([idOf('a/p1.jpg'), idOf('b/p8.jpg')].sort((x, y) => x - y));
    await lib.engine.deleteAlbum(album.id);
  });

  it('refuses malformed requests with a clear message', async () => {
    await expect(lib.engine.search({ limit: -1 } as never)).rejects.toThrow(/limit/);
    await expect(lib.engine.search({ region: { photoId: 1, box: { x: 0, y: 0, w: 2, h: 1 } } })).rejects.toThrow(/region\.box\.w/);
    await expect(lib.engine.search({ photo: { id: 99999 } })).rejects.toThrow(/not in the library/);
  });
});

describe('categories', () => {
  it('zero-shot: counts per class, and category:NAME returns exactly the photos whose most likely class it is', async () => {
    const counts = await lib.engine.categoryCounts('pets', 0);
    expect(counts.reduce((a, c) => a + c.count, 0)).toBe(18);
    const t = loadTaxonomy('pets');
    const row = lib.engine.internals.db.prepare(`SELECT classes, dim, data FROM class_embeddings WHERE space = 'clip.clip-a' AND taxonomy = 'pets'`).get() as { classes: number; dim: number; data: Buffer };
    expect(row.classes).toBe(t.classes.length);
    // Independently: class vectors are the template means of the text embeddings.
    const enc = await lib.engine.internals.encoders.clip('clip-a');
    const classes = await Promise.all(t.classes.map(async (c) => mean(await enc.embedTexts(t.templates.map((x) => x.replace('{}', c))))));
    const stored32 = new Float32Array(row.data.buffer.slice(row.data.byteOffset, row.data.byteOffset + row.data.length));
    expect(stored32[5]!).toBeCloseTo(classes[0]![5]!, 5);
    const top = counts[0]!;
    const byContent = photoIdsOfContent();
    const want: number[] = [];
    for (const [cid, v] of stored('clip.clip-a')) {
      const c = classify(v, classes);
      if (t.classes[c.index] === top.name && c.prob >= 0.2) want.push(...(byContent.get(cid) ?? []));
    }
    const r = await lib.engine.search({ text: `category:pets/${top.name}`, limit: 100 });
    expect(ids(r).sort((x, y) => x - y)).toEqual(want.sort((x, y) => x - y));
    const unknown = await lib.engine.search({ text: 'category:Unicorn Finch' });
    expect(unknown.hits).toEqual([]);
    expect(unknown.notes.join()).toMatch(/no category named "Unicorn Finch"/);
    // A taxonomy that does not exist is the user's typo, answered the same way.
    const typo = await lib.engine.search({ text: 'category:nope/x' });
    expect(typo.hits).toEqual([]);
    expect(typo.notes.join()).toMatch(/no category named "x" in nope/);
    await expect(lib.engine.categoryCounts('__proto__')).rejects.toThrow(/no taxonomy named/);
    await expect(lib.engine.categoryCounts('__proto__')).rejects.toBeInstanceOf(UserError);
  });

  it('user-taught: learns from a few examples, suggests the rest of the colour, and teaching one category never changes another', async () => {
    const reds = ['a/p0.jpg', 'a/p3.jpg'].map(idOf);
    const r = await lib.engine.teachCategory('reddish', reds);
    expect(Number.isFinite(r.trainMs)).toBe(true);
    const suggested = r.suggestions.map((s) => s.photo.path);
    expect(suggested.length).toBeGreaterThan(0);
    // p6 and p9 are the other red photos (p0's copies too).
    expect(suggested.slice(0, 3).every((p) => /p(0-small|6|9)\.jpg$|copy-of-p0/.test(p))).toBe(true);
    const model = (): Buffer => (lib.engine.internals.db.prepare(`SELECT weights FROM user_category_models m JOIN user_categories c ON c.id = m.category_id WHERE c.name = 'reddish'`).get() as { weights: Buffer }).weights;
    const before = model();
    const searchBefore = ids(await lib.engine.search({ text: 'category:reddish', limit: 100 }));
    await lib.engine.teachCategory('bluish', ['a/p1.jpg', 'a/p4.jpg'].map(idOf), reds);
    await lib.engine.teachCategory('bluish', [idOf('b/p7.jpg')]);
    expect(model().equals(before)).toBe(true);
    expect(ids(await lib.engine.search({ text: 'category:reddish', limit: 100 }))).toEqual(searchBefore);
    expect(searchBefore).toEqual(expect.arrayContaining(reds));
    const list = await lib.engine.listCategories();
    expect(list.map((c) => [c.name, c.positives, c.negatives])).toEqual([['bluish', 3, 2], ['reddish', 2, 0]]);
  });
});

describe('near-duplicates', () => {
  it('groups a copy and a re-encoded version with the original, and nothing unrelated', async () => {
    const groups = await lib.engine.duplicates();
    const g = groups.find((x) => x.photos.some((p) => p.path.endsWith('a/p0.jpg')))!;
    expect(g.photos.map((p) => p.path.split('/').slice(-2).join('/')).sort()).toEqual(['a/p0.jpg', 'b/copy-of-p0.jpg', 'b/p0-small.jpg']);
    // No group mixes colours: different pictures are not duplicates.
    const colour = (path: string): number | null => { const m = /\/p(\d+)\.(jpg|png)$/.exec(path); return m ? Number(m[1]) % 3 : null; };
    for (const other of groups) expect(new Set(other.photos.map((p) => colour(p.path)).filter((c) => c !== null)).size).toBeLessThanOrEqual(1);
  });
});

it('uses the index dimension it was built with', async () => {
  expect(clipDim).toBeGreaterThan(0);
  const serving = lib.engine.internals.spaces.info('clip')!;
  expect(serving.space).toBe('clip.clip-a');
  expect(serving.dim).toBe(clipDim);
  expect((await lib.engine.internals.indexes.get(serving.space, clipDim)).dim).toBe(clipDim);
  await expect(lib.engine.internals.indexes.get(serving.space, clipDim + 1)).rejects.toThrow(RangeError);
  const q = (await lib.engine.search({ text: 'a red photo', limit: 1 }));
  expect(q.space).toBe(serving.space);
});
