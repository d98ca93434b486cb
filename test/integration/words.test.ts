/**
 * One word index for everything (SQLite FTS5, trigrams, accents off), on a real library: a file
 * name, a title and keywords written in XMP (one in Japanese), a place from GPS, a person's name,
 * the text read in a photo and an album's name are all found by a word of the sentence, first and
 * marked, whatever a real ONNX CLIP model thinks of the pictures; among those exact matches the
 * order is the reciprocal-rank fusion of word rank and picture rank. The index follows changes:
 * an album renamed, a person named, a photo gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { HitMaker, rrf } from '../../main/search/hits.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';
import { tempDir } from '../helpers/fixtures.js';

const xmp = (inner: string): string => `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">${inner}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;
const bag = (tag: string, items: string[]): string => `<${tag}><rdf:Bag>${items.map((i) => `<rdf:li>${i}</rdf:li>`).join('')}</rdf:Bag></${tag}>`;
const alt = (tag: string, value: string): string => `<${tag}><rdf:Alt><rdf:li xml:lang="x-default">${value}</rdf:li></rdf:Alt></${tag}>`;

const t = tempDir();
let lib: TestLibrary;
const path = (name: string): string => join(lib.photos, name);
const id = (name: string): number => lib.row(path(name))!.id;
const file = (p: string): string => p.slice(lib.photos.length + 1);

async function picture(name: string, seed: number, meta = ''): Promise<void> {
  let img = sharp({ create: { width: 320, height: 240, channels: 3, background: { r: (seed * 53) % 256, g: (seed * 97) % 256, b: (seed * 31) % 256 } } });
  if (meta) img = img.withXmp(xmp(meta));
  await img.jpeg().toFile(path(name));
}

beforeAll(async () => {
  lib = testLibrary();
  mkdirSync(lib.photos, { recursive: true });
  await picture('IMG_2041.jpg', 1);
  await picture('cabo.jpg', 2, alt('dc:title', 'Sunset at Cabo da Roca') + bag('dc:subject', ['Großmutter', 'Café Nicola']));
  await picture('tokyo.jpg', 3, bag('dc:subject', ['東京']));
  await picture('ana.jpg', 4);
  await picture('sign.jpg', 5);
  await picture('trip.jpg', 6);
  for (let i = 0; i < 6; i++) await picture(`other-${i}.jpg`, 10 + i);
  await lib.engine.importModel(writeTinyPacks(join(t.dir, 'packs')).clip, { name: 'clip' });
  await indexPhotos(lib);
  const { repos } = lib.engine.internals;
  // A person named on the photo's face, and text read in a picture, as the face and text stages store them.
  const ana = lib.row(path('ana.jpg'))!;
  const person = repos.faces.createPerson(Date.now(), 'Ana Sofia');
  const [face] = repos.faces.put('faces', ana.hash!, [{ box: { x: 0.2, y: 0.2, w: 0.3, h: 0.3 }, landmarks: [], score: 0.9, quality: 0.9, vector: new Float32Array(8).fill(0.35) }], Date.now());
  repos.faces.assign(face!, person, 'user');
  repos.texts.put('ppocr-v4', lib.row(path('sign.jpg'))!.hash!, [{ text: 'HOTELAURORA', confidence: 0.97, quad: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.2], [0.1, 0.2]] }], Date.now());
  const album = await lib.engine.createAlbum('Lisbon weekend');
  await lib.engine.addToAlbum(album.id, [id('trip.jpg')]);
}, 120_000);

afterAll(async () => {
  await lib?.close();
  t.cleanup();
});

const named = async (text: string): Promise<string[]> =>
  (await lib.engine.search({ text, limit: 50 })).hits.filter((h) => h.matchedName).map((h) => file(h.photo.path)).sort();

describe('the word index', () => {
  it('finds a photo by any of its words: name, title, keywords in any script and accent, people, text read, albums', async () => {
    expect(await named('IMG_2041')).toEqual(['IMG_2041.jpg']);
    expect(await named('img_2041 sunset')).toEqual([]);
    expect(await named('sunset at cabo')).toEqual(['cabo.jpg']);
    expect(await named('grossmutter')).toEqual([]);
    expect(await named('Großmutter')).toEqual(['cabo.jpg']);
    expect(await named('cafe nicola')).toEqual(['cabo.jpg']);
    expect(await named('東京')).toEqual(['tokyo.jpg']);
    expect(await named('ana sofia')).toEqual(['ana.jpg']);
    expect(await named('Hotel Aurora')).toEqual(['sign.jpg']);
    expect(await named('lisbon weekend')).toEqual(['trip.jpg']);
    // Exact matches come first, whatever the picture ranking says.
    const r = await lib.engine.search({ text: 'IMG_2041', limit: 50 });
    expect(file(r.hits[0]!.photo.path)).toBe('IMG_2041.jpg');
    expect(r.total).toBe(12);
  });

  it('orders exact matches by reciprocal-rank fusion of their word rank and their picture rank', async () => {
    const { repos } = lib.engine.internals;
    const hits = new HitMaker(repos.queries, repos.vectors);
    const photos = ['other-0.jpg', 'other-1.jpg', 'other-2.jpg', 'other-3.jpg'].map(id);
    const content = repos.queries.photosWithContent(photos);
    const item = (photo: number): number => content.find((c) => c.id === photo)!.content_id;
    // Word ranks 0, 1, 2, 3; picture ranks reversed for the first three, the fourth never reached by the ranking.
    const named = new Map(photos.map((p, i) => [p, i]));
    const ranked = [2, 1, 0].map((i) => ({ item: item(photos[i]!), score: 0.5 - i / 10, vectorId: null }));
    const out = hits.named(named, null, ranked, { text: 'other' });
    const score = (name: string): number => out.find((h) => h.photo.id === id(name))!.score;
    expect(score('other-0.jpg')).toBeCloseTo(1 + rrf(0) + rrf(2), 12);
    expect(score('other-1.jpg')).toBeCloseTo(1 + rrf(1) + rrf(1), 12);
    expect(score('other-2.jpg')).toBeCloseTo(1 + rrf(2) + rrf(0), 12);
    expect(score('other-3.jpg')).toBeCloseTo(1 + rrf(3), 12);
    // Agreeing on the middle loses to being first on one list: 1/61 + 1/63 > 2/62.
    expect(out.map((h) => file(h.photo.path))).toEqual(['other-0.jpg', 'other-2.jpg', 'other-1.jpg', 'other-3.jpg']);
  });

  it('follows the library: an album renamed, a person named otherwise, a photo gone', async () => {
    const album = (await lib.engine.listAlbums()).find((a) => a.name === 'Lisbon weekend')!;
    await lib.engine.renameAlbum(album.id, 'Porto holiday');
    expect(await named('lisbon weekend')).toEqual([]);
    expect(await named('porto holiday')).toEqual(['trip.jpg']);
    const [ana] = await lib.engine.listPeople();
    await lib.engine.namePerson(ana!.id, 'Joana');
    expect(await named('ana sofia')).toEqual([]);
    expect(await named('joana')).toEqual(['ana.jpg']);
    rmSync(path('IMG_2041.jpg'));
    await lib.engine.scan();
    expect(await named('IMG_2041')).toEqual([]);
  });
});

describe('exact words before any CLIP pack', () => {
  let bare: TestLibrary;

  beforeAll(async () => {
    bare = testLibrary();
    mkdirSync(bare.photos, { recursive: true });
    for (const [i, name] of ['IMG_2041.jpg', 'IMG_2042.jpg', 'Lisbon 2019/tram.jpg'].entries()) {
      mkdirSync(join(bare.photos, name, '..'), { recursive: true });
      await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 30 * i, g: 90, b: 160 } } }).jpeg().toFile(join(bare.photos, name));
    }
    await indexPhotos(bare);
  }, 60_000);

  afterAll(async () => {
    await bare?.close();
  });

  it('answers "IMG_2041" and "Lisbon" from the word index alone, and says that a sentence needs a model', async () => {
    const r = await bare.engine.search({ text: 'IMG_2041' });
    expect(r.hits.map((h) => h.photo.path.slice(bare.photos.length + 1))).toEqual(['IMG_2041.jpg']);
    expect(r).toMatchObject({ total: 1, space: null });
    expect(r.notes.join(' ')).toMatch(/only exact words matched: no CLIP model pack/);
    expect((await bare.engine.search({ text: 'lisbon' })).hits.map((h) => h.photo.path.slice(bare.photos.length + 1))).toEqual(['Lisbon 2019/tram.jpg']);
    await expect(bare.engine.search({ text: 'a dog on a beach' })).rejects.toThrow(/needs a CLIP model pack/);
  });
});
