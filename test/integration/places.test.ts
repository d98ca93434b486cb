/**
 * Places, end to end on a real library: photos made by sharp with GPS and dates in their EXIF
 * (Lisbon, Cascais, Tokyo, the open Atlantic; and photos without GPS) are placed while indexing,
 * offline; a photo without GPS taken an hour and a half after a located one in its folder is
 * placed "near" it, marked inferred; `loupe places` lists countries and places with counts;
 * place:, -place:, --area and a sentence that ends on a place ("a photo in Lisbon", with a real
 * ONNX CLIP model ranking it) filter by place; a changed GPS is placed again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { PlaceCount, SearchResponse } from '../../main/contract/api.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { writeTinyPacks } from '../helpers/packs.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';

/** Degrees as EXIF's three rationals (degrees, minutes, hundredths of seconds). */
function dms(v: number): string {
  const a = Math.abs(v);
  const d = Math.floor(a);
  const m = Math.floor((a - d) * 60);
  const s = Math.round(((a - d) * 60 - m) * 60 * 100);
  return `${d}/1 ${m}/1 ${s}/100`;
}

const gps = (lat: number, lon: number): Record<string, string> => ({
  GPSLatitudeRef: lat >= 0 ? 'N' : 'S', GPSLatitude: dms(lat), GPSLongitudeRef: lon >= 0 ? 'E' : 'W', GPSLongitude: dms(lon),
});

const PHOTOS: Record<string, { at?: [number, number]; taken?: string }> = {
  'trip/lisbon.jpg': { at: [38.7223, -9.1393], taken: '2024:05:01 10:00:00' },
  'trip/lisbon-no-gps.jpg': { taken: '2024:05:01 11:30:00' },
  'trip/cascais.jpg': { at: [38.6979, -9.4215], taken: '2024:05:02 16:00:00' },
  'trip/a-week-later.jpg': { taken: '2024:05:09 12:00:00' },
  'japan/tokyo.jpg': { at: [35.6762, 139.6503], taken: '2024:06:01 09:00:00' },
  'japan/same-day-as-lisbon.jpg': { taken: '2024:05:01 11:30:00' },
  'ocean/mid-atlantic.jpg': { at: [30, -40], taken: '2024:07:01 12:00:00' },
  'misc/nothing.jpg': {},
};

const t = tempDir();
let lib: TestLibrary;
const cliLibrary = join(t.dir, 'cli-library');
const names = (r: SearchResponse): string[] => r.hits.map((h) => h.photo.path.slice(lib.photos.length + 1)).sort();
const loupe = async (...args: string[]): Promise<string> => {
  const r = await runCli(['--library', cliLibrary, '--device', 'cpu', ...args]);
  if (r.code !== 0) throw new Error(`loupe ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};

async function writePhoto(rel: string, spec: { at?: [number, number]; taken?: string }, seed: number): Promise<void> {
  await writeImage(join(lib.photos, rel), {
    width: 160, height: 120, seed,
    exif: { ...(spec.taken ? { IFD2: { DateTimeOriginal: spec.taken } } : {}), ...(spec.at ? { IFD3: gps(...spec.at) } : {}) },
  });
}

beforeAll(async () => {
  lib = testLibrary();
  for (const [i, [rel, spec]] of Object.entries(PHOTOS).entries()) await writePhoto(rel, spec, i + 1);
  await lib.engine.importModel(writeTinyPacks(join(t.dir, 'packs')).clip, { name: 'clip' });
  await indexPhotos(lib);
}, 120_000);

afterAll(async () => {
  await lib?.close();
  t.cleanup();
});

describe('places', () => {
  it('places each photo with a GPS, infers one taken beside a located photo, and places the open sea nowhere', async () => {
    const place = async (rel: string): Promise<unknown> => (await lib.engine.getPhoto(lib.row(join(lib.photos, rel))!.id))!.place;
    expect(await place('trip/lisbon.jpg')).toMatchObject({ name: 'Lisbon', country: 'Portugal', countryCode: 'PT', inferred: false });
    expect(await place('trip/cascais.jpg')).toMatchObject({ name: 'Cascais', region: 'Lisbon', inferred: false });
    expect(await place('trip/lisbon-no-gps.jpg')).toMatchObject({ name: 'Lisbon', inferred: true, distanceKm: null });
    // A week after anything located in its folder; the same hour as Lisbon, but in another folder.
    expect(await place('trip/a-week-later.jpg')).toBeNull();
    expect(await place('japan/same-day-as-lisbon.jpg')).toBeNull();
    expect(await place('ocean/mid-atlantic.jpg')).toBeNull();
    expect(await place('misc/nothing.jpg')).toBeNull();
  });

  it('lists countries, then a country\'s places, with counts and covers', async () => {
    const countries = await lib.engine.listPlaces();
    expect(countries.map((c) => [c.name, c.photos])).toEqual([['Portugal', 3], ['Japan', 1]]);
    const pt = await lib.engine.listPlaces('pt');
    expect(pt.map((c) => [c.name, c.region, c.photos])).toEqual([['Lisbon', null, 2], ['Cascais', 'Lisbon', 1]]);
    // The most recent photo there is the cover.
    expect(pt[1]!.coverId).toBe(lib.row(join(lib.photos, 'trip/cascais.jpg'))!.id);
  });

  it('filters by place, region and country, excludes with -place:, and by an area of the map', async () => {
    const search = async (text: string, filters = {}): Promise<string[]> => names(await lib.engine.search({ text, filters, limit: 50 }));
    expect(await search('place:Lisbon')).toEqual(['trip/cascais.jpg', 'trip/lisbon-no-gps.jpg', 'trip/lisbon.jpg']);
    expect(await search('place:portugal -place:cascais')).toEqual(['trip/lisbon-no-gps.jpg', 'trip/lisbon.jpg']);
    expect(await search('place:JP')).toEqual(['japan/tokyo.jpg']);
    expect(await search('', { places: ['Lisboa'] })).toEqual([]);
    expect(await search('', { area: { south: 35, west: 139, north: 36, east: 140 } })).toEqual(['japan/tokyo.jpg']);
    // Across the antimeridian: west 170 to east -170 holds neither.
    expect(await search('', { area: { south: -90, west: 170, north: 90, east: -170 } })).toEqual([]);
    const none = await lib.engine.search({ text: 'place:Atlantis' });
    expect(none.total).toBe(0);
    expect(none.notes.join(' ')).toMatch(/no photo was taken in "Atlantis"/);
  });

  it('splits a sentence that ends on a place into the place and the sentence, which ranks', async () => {
    const r = await lib.engine.search({ text: 'a photo in Lisbon', limit: 50 });
    expect(names(r)).toEqual(['trip/cascais.jpg', 'trip/lisbon-no-gps.jpg', 'trip/lisbon.jpg']);
    expect(r.space).toContain('clip');
    expect(r.hits.every((h) => typeof h.score === 'number')).toBe(true);
    // The place alone puts its photos first, marked, then the rest as the sentence ranks them;
    // a place no photo was taken in stays part of the sentence.
    const japan = await lib.engine.search({ text: 'Japan', limit: 50 });
    // Taken in Japan, and in a folder called so.
    expect(names({ ...japan, hits: japan.hits.slice(0, 2) })).toEqual(['japan/same-day-as-lisbon.jpg', 'japan/tokyo.jpg']);
    expect(japan.hits.map((h) => h.matchedName)).toEqual([true, true, ...new Array(japan.hits.length - 2).fill(false)]);
    expect((await lib.engine.search({ text: 'a photo in Porto', limit: 50 })).total).toBe(Object.keys(PHOTOS).length);
  });

  it('places a photo again when its GPS changes', async () => {
    await writePhoto('trip/cascais.jpg', { at: [35.4437, 139.638], taken: '2024:05:02 16:00:00' }, 99);
    await lib.engine.scan();
    await lib.engine.index();
    const p = await lib.engine.getPhoto(lib.row(join(lib.photos, 'trip/cascais.jpg'))!.id);
    expect(p!.place).toMatchObject({ name: 'Yokohama', country: 'Japan' });
  });
});

describe('loupe places', () => {
  it('lists where the photos were taken, and a country\'s places by its code or its name', async () => {
    await loupe('add-folder', lib.photos);
    await loupe('index');
    // Cascais's photo is in Yokohama now (the test above moved it).
    expect(await loupe('places')).toMatch(/^JP\s+Japan\s+2 photo\(s\)\nPT\s+Portugal\s+2 photo\(s\)$/m);
    const pt = JSON.parse(await loupe('--json', 'places', 'Portugal')) as PlaceCount[];
    expect(pt.map((p) => p.name)).toEqual(['Lisbon']);
    expect(await loupe('places', 'jp')).toMatch(/Tokyo/);
    expect(await loupe('places', 'Narnia')).toMatch(/No photo was taken in a country called Narnia/);
    const r = JSON.parse(await loupe('--json', 'search', '--place', 'Japan', '--not-place', 'Tokyo')) as SearchResponse;
    expect(r.hits.map((h) => h.photo.path.split('/').pop())).toEqual(['cascais.jpg']);
  });
});
