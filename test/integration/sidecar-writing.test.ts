/**
 * Loupe's albums and taught categories written as XMP keywords into sidecars: never unless the
 * user turns it on; then into the sidecar a photo has (keeping everything else in it) or a new
 * one named as digiKam and darktable do; Loupe takes back only its own words; a malformed
 * sidecar is left untouched and reported; photo files are never written; Loupe (and so any
 * XMP reader) reads the keywords back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import type { EngineEvent, SidecarReport } from '../../main/contract/api.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { indexPhotos, nextEvent, testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';

const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
const LIGHTROOM_SIDECAR = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="${RDF}">
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="4">
<dc:subject><rdf:Bag><rdf:li>Grandma</rdf:li><rdf:li>Trip</rdf:li></rdf:Bag></dc:subject>
</rdf:Description></rdf:RDF></x:xmpmeta>`;
const MALFORMED = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description'; // cut off

const src = tempDir();
let lib: TestLibrary;
const id: Record<string, number> = {};
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
let photoHashes: Record<string, string> = {};

/** A property's items in a sidecar, read by an XML parser (as any XMP reader would). */
function bag(path: string, ns: string, local: string): string[] {
  const doc = new DOMParser().parseFromString(readFileSync(path, 'utf8'), 'text/xml');
  const prop = doc.getElementsByTagNameNS(ns, local)[0];
  return prop ? Array.from(prop.getElementsByTagNameNS(RDF, 'li')).map((li) => li.textContent ?? '') : [];
}
const subjects = (path: string): string[] => bag(path, 'http://purl.org/dc/elements/1.1/', 'subject');
const hierarchy = (path: string): string[] => bag(path, 'http://ns.adobe.com/lightroom/1.0/', 'hierarchicalSubject');

const pass = (): Promise<SidecarReport> =>
  nextEvent(lib.engine, (e: EngineEvent): e is Extract<EngineEvent, { type: 'sidecars' }> => e.type === 'sidecars').then((e) => e.report);

beforeAll(async () => {
  const packs = writeTinyPacks(src.dir, 2);
  lib = testLibrary();
  for (const [i, name] of ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'].entries()) await writeImage(join(lib.photos, name), { seed: i + 1 });
  writeFileSync(join(lib.photos, 'b.xmp'), LIGHTROOM_SIDECAR);
  writeFileSync(join(lib.photos, 'c.jpg.xmp'), MALFORMED);
  await lib.engine.importModel(packs.clip, { name: 'clip' });
  await indexPhotos(lib);
  for (const r of lib.rows()) id[r.path.slice(lib.photos.length + 1)] = r.id;
  photoHashes = Object.fromEntries(['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'].map((n) => [n, sha(join(lib.photos, n))]));
}, 120_000);

afterAll(async () => {
  await lib?.close();
  src.cleanup();
});

describe('writing albums and categories into sidecars', () => {
  it('is off by default: an album changes nothing beside the photos', async () => {
    expect(await lib.engine.preferences()).toMatchObject({ writeSidecars: false, readText: true, onlineMap: false });
    const before = readdirSync(lib.photos).sort();
    const album = await lib.engine.createAlbum('Trip');
    await lib.engine.addToAlbum(album.id, [id['a.jpg']!, id['b.jpg']!, id['c.jpg']!]);
    await lib.engine.teachCategory('Dogs', [id['d.jpg']!]);
    expect(readdirSync(lib.photos).sort()).toEqual(before);
    expect(readFileSync(join(lib.photos, 'b.xmp'), 'utf8')).toBe(LIGHTROOM_SIDECAR);
    await expect(lib.engine.syncSidecars()).rejects.toThrow(/writing sidecars is off/);
  });

  it('turned on, writes each photo\'s albums and categories, keeping what the sidecar had', async () => {
    const report = pass();
    expect(await lib.engine.setPreferences({ writeSidecars: true })).toMatchObject({ writeSidecars: true, readText: true, onlineMap: false });
    const r = await report;
    expect(r.written).toBe(3);
    // A new sidecar, named as digiKam and darktable name it.
    const a = join(lib.photos, 'a.jpg.xmp');
    expect(subjects(a)).toEqual(['Trip']);
    expect(hierarchy(a)).toEqual(['Loupe|Albums|Trip']);
    expect(subjects(join(lib.photos, 'd.jpg.xmp'))).toEqual(['Dogs']);
    expect(hierarchy(join(lib.photos, 'd.jpg.xmp'))).toEqual(['Loupe|Categories|Dogs']);
    // The Lightroom sidecar it had is updated in place: its rating and keywords stay.
    expect(existsSync(join(lib.photos, 'b.jpg.xmp'))).toBe(false);
    const b = join(lib.photos, 'b.xmp');
    expect(subjects(b)).toEqual(['Grandma', 'Trip']);
    expect(hierarchy(b)).toEqual(['Loupe|Albums|Trip']);
    expect(readFileSync(b, 'utf8')).toContain('xmp:Rating="4"');
    // A sidecar that is not XMP is never touched, and says why.
    expect(r.failed).toEqual([{ path: join(lib.photos, 'c.jpg'), error: expect.stringMatching(/not well-formed XML/) }]);
    expect(readFileSync(join(lib.photos, 'c.jpg.xmp'), 'utf8')).toBe(MALFORMED);
  });

  it('Loupe reads the keywords it wrote back, as any app reading sidecars does', async () => {
    await lib.engine.scan();
    await lib.engine.index();
    expect((await lib.engine.getPhoto(id['a.jpg']!))!.keywords).toEqual(expect.arrayContaining(['Trip', 'Loupe', 'Albums']));
    expect((await lib.engine.getPhoto(id['b.jpg']!))!.keywords).toEqual(expect.arrayContaining(['Grandma', 'Trip']));
  });

  it('takes back only its own words when a photo leaves an album, and follows a rename', async () => {
    const album = await lib.engine.findAlbum('Trip');
    let report = pass();
    await lib.engine.removeFromAlbum(album.id, [id['a.jpg']!, id['b.jpg']!]);
    expect((await report).written).toBe(2);
    expect(subjects(join(lib.photos, 'a.jpg.xmp'))).toEqual([]);
    expect(hierarchy(join(lib.photos, 'a.jpg.xmp'))).toEqual([]);
    // "Trip" was the user's own keyword in the Lightroom sidecar: it stays.
    expect(subjects(join(lib.photos, 'b.xmp'))).toEqual(['Grandma', 'Trip']);
    expect(hierarchy(join(lib.photos, 'b.xmp'))).toEqual([]);

    report = pass();
    await lib.engine.addToAlbum(album.id, [id['d.jpg']!]);
    await report;
    report = pass();
    await lib.engine.renameAlbum(album.id, 'Lisbon | 2024');
    await report;
    expect(hierarchy(join(lib.photos, 'd.jpg.xmp')).sort()).toEqual(['Loupe|Albums|Lisbon / 2024', 'Loupe|Categories|Dogs']);
    expect(subjects(join(lib.photos, 'd.jpg.xmp')).sort()).toEqual(['Dogs', 'Lisbon / 2024']);
  });

  it('never writes into the photo files themselves', () => {
    for (const [name, hash] of Object.entries(photoHashes)) expect(sha(join(lib.photos, name)), name).toBe(hash);
  });
});

describe('the settings command', () => {
  it('says sidecars are off, turns them on and reports what it wrote', async () => {
    const t = tempDir();
    try {
      const photos = join(t.dir, 'photos');
      mkdirSync(photos);
      await writeImage(join(photos, 'x.jpg'), { seed: 9 });
      const args = ['--library', join(t.dir, 'lib')];
      await runCli([...args, 'add-folder', photos]);
      await runCli([...args, 'index']);
      expect((await runCli([...args, 'albums', 'create', 'Best'])).code).toBe(0);
      expect((await runCli([...args, 'albums', 'add', 'Best', '1'])).code).toBe(0);
      const off = await runCli([...args, 'settings']);
      expect(off.stdout).toMatch(/Loupe writes nothing beside your photos/);
      expect(existsSync(join(photos, 'x.jpg.xmp'))).toBe(false);
      const on = await runCli([...args, 'settings', '--write-sidecars', 'on']);
      expect(on.code, on.stderr).toBe(0);
      expect(on.stdout).toMatch(/1 written, 0 up to date, 0 failed/);
      expect(subjects(join(photos, 'x.jpg.xmp'))).toEqual(['Best']);
    } finally {
      t.cleanup();
    }
  });
});
