/**
 * What people already wrote about their photos: XMP embedded in a JPEG (as Lightroom and Apple
 * Photos write it), a darktable/digiKam sidecar beside a RAW (IMG.DNG.xmp, with an MWG face
 * region), a Lightroom sidecar (IMG.xmp) that overrides the embedded rating, and a sidecar that is
 * not XMP. Indexed by the real engine with the tiny CLIP pack: shown on the photo, filterable,
 * ranked first when a query word is a keyword, and re-read when the sidecar changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { runCli } from '../helpers/cli.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';
import { buildTiff, T } from '../helpers/tiff.js';

const xmp = (inner: string, attrs = ''): string => `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:lr="http://ns.adobe.com/lightroom/1.0/" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
 xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" ${attrs}>${inner}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;
const bag = (tag: string, items: string[]): string => `<${tag}><rdf:Bag>${items.map((i) => `<rdf:li>${i}</rdf:li>`).join('')}</rdf:Bag></${tag}>`;
const alt = (tag: string, value: string): string => `<${tag}><rdf:Alt><rdf:li xml:lang="x-default">${value}</rdf:li></rdf:Alt></${tag}>`;

/** A JPEG with an IPTC block (APP13, Photoshop's resource 0x0404), as older tools and newsrooms write it. */
function withIptc(jpeg: Buffer, fields: [number, string][]): Buffer {
  const dataset = (tag: number, value: string): Buffer => {
    const v = Buffer.from(value, 'utf8');
    return Buffer.concat([Buffer.from([0x1c, 2, tag, v.length >> 8, v.length & 255]), v]);
  };
  const iptc = Buffer.concat([Buffer.from([0x1c, 1, 90, 0, 3, 0x1b, 0x25, 0x47]), ...fields.map(([t, v]) => dataset(t, v))]);
  const resource = Buffer.concat([Buffer.from('8BIM', 'latin1'), Buffer.from([0x04, 0x04, 0, 0]), Buffer.alloc(4), iptc, Buffer.alloc(iptc.length % 2)]);
  resource.writeUInt32BE(iptc.length, 8);
  const payload = Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), resource]);
  const app13 = Buffer.concat([Buffer.from([0xff, 0xed, (payload.length + 2) >> 8, (payload.length + 2) & 255]), payload]);
  return Buffer.concat([jpeg.subarray(0, 2), app13, jpeg.subarray(2)]);
}

let lib: TestLibrary;
const path = (name: string): string => join(lib.photos, name);
const id = (name: string): number => lib.row(path(name))!.id;

beforeAll(async () => {
  lib = testLibrary();
  mkdirSync(lib.photos, { recursive: true });
  const picture = (seed: number): Sharp =>
    sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 40 * seed, g: 120, b: 200 - 30 * seed } } });
  await picture(1).withXmp(xmp(
    alt('dc:title', 'Sunset at Cabo') + alt('dc:description', 'Anna and Tom on the cliffs') + bag('dc:subject', ['Anna', 'holiday'])
      + bag('lr:hierarchicalSubject', ['Places|Portugal|Cabo da Roca']),
    'xmp:Rating="4" xmp:Label="Red"',
  )).jpeg().toFile(path('IMG_0001.jpg'));
  await picture(2).withXmp(xmp(bag('dc:subject', ['harbour']), 'xmp:Rating="1"')).jpeg().toFile(path('IMG_0002.jpg'));
  writeFileSync(path('IMG_0002.xmp'), xmp(bag('dc:subject', ['boats']), 'xmp:Rating="5"'));
  const preview = await picture(3).jpeg().toBuffer();
  writeFileSync(path('L1000001.DNG'), buildTiff([[[T.make, { ascii: 'Leica Camera AG' }],
    [T.subIfds, { ifds: [[[T.newSubfileType, { long: [1] }], [T.compression, { short: [7] }], [T.stripOffsets, { offsetOf: preview }], [T.stripByteCounts, { lengthOf: preview }]]] }]]]));
  writeFileSync(path('L1000001.DNG.xmp'), xmp(
    bag('dc:subject', ['climbing']) + `<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag><rdf:li rdf:parseType="Resource">
      <mwg-rs:Name>Tom</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type><mwg-rs:Area stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3"/>
    </rdf:li></rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>`,
    'xmp:Rating="3" xmp:Label="Green"',
  ));
  await picture(4).jpeg().toFile(path('IMG_0004.jpg'));
  writeFileSync(path('IMG_0004.xmp'), 'this is not XMP at all');
  await picture(5).jpeg().toFile(path('IMG_0005.jpg'));
  // Windows Photo Gallery's people tags (Microsoft's region schema): one named, one that is not a box.
  await picture(7).withXmp(xmp(`<MP:RegionInfo rdf:parseType="Resource"><MPRI:Regions><rdf:Bag>
    <rdf:li rdf:parseType="Resource"><MPReg:PersonDisplayName>Ines</MPReg:PersonDisplayName><MPReg:Rectangle>0.1, 0.2, 0.25, 0.3</MPReg:Rectangle></rdf:li>
    <rdf:li rdf:parseType="Resource"><MPReg:Rectangle>not a rectangle</MPReg:Rectangle></rdf:li>
    </rdf:Bag></MPRI:Regions></MP:RegionInfo>`,
  'xmlns:MP="http://ns.microsoft.com/photo/1.2/" xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#"'))
    .jpeg().toFile(path('IMG_0007.jpg'));
  writeFileSync(path('IMG_0006.jpg'), withIptc(await picture(6).jpeg().toBuffer(), [[5, 'Old tram'], [25, 'Lisbon'], [25, 'tram'], [120, 'Tram 28 in Alfama']]));
  await lib.engine.importModel(writeTinyPacks(join(lib.root, 'packs')).clip, { name: 'clip-a' });
  await lib.engine.addFolder(lib.photos);
  await lib.engine.scan();
  expect((await lib.engine.index()).failed).toBe(0);
}, 120_000);

afterAll(async () => {
  await lib?.close();
});

describe('metadata people wrote', () => {
  it('reads title, description, rating, label and keywords (hierarchical ones at every level) embedded in a JPEG', async () => {
    const p = (await lib.engine.getPhoto(id('IMG_0001.jpg')))!;
    expect(p).toMatchObject({ title: 'Sunset at Cabo', description: 'Anna and Tom on the cliffs', rating: 4, label: 'Red' });
    expect([...p.keywords].sort()).toEqual(['Anna', 'Cabo da Roca', 'holiday', 'Places', 'Places|Portugal|Cabo da Roca', 'Portugal'].sort());
  });

  it('reads IPTC keywords, object name and caption', async () => {
    const p = (await lib.engine.getPhoto(id('IMG_0006.jpg')))!;
    expect(p).toMatchObject({ title: 'Old tram', description: 'Tram 28 in Alfama' });
    expect([...p.keywords].sort()).toEqual(['Lisbon', 'tram'].sort());
  });

  it('takes a sidecar over the embedded values (Lightroom IMG.xmp), and a RAW\'s darktable sidecar with a face region\'s name', async () => {
    const two = (await lib.engine.getPhoto(id('IMG_0002.jpg')))!;
    expect(two.rating).toBe(5);
    expect([...two.keywords].sort()).toEqual(['boats', 'harbour'].sort());
    const dng = (await lib.engine.getPhoto(id('L1000001.DNG')))!;
    expect(dng).toMatchObject({ rating: 3, label: 'Green', format: 'dng' });
    expect([...dng.keywords].sort()).toEqual(['climbing', 'Tom'].sort());
    // The region's box: MWG gives its centre and size.
    expect(dng.regions).toHaveLength(1);
    expect(dng.regions[0]).toMatchObject({ name: 'Tom', kind: 'face' });
    const b = dng.regions[0]!.box;
    [b.x, b.y, b.w, b.h].forEach((v, i) => expect(v).toBeCloseTo([0.4, 0.25, 0.2, 0.3][i]!, 6));
  });

  it("reads Microsoft's people regions with their boxes, and skips one that is not a box", async () => {
    const p = (await lib.engine.getPhoto(id('IMG_0007.jpg')))!;
    expect(p.keywords).toEqual(['Ines']);
    expect(p.regions).toHaveLength(1);
    expect(p.regions[0]).toMatchObject({ name: 'Ines', kind: 'face' });
    const b = p.regions[0]!.box;
    [b.x, b.y, b.w, b.h].forEach((v, i) => expect(v).toBeCloseTo([0.1, 0.2, 0.25, 0.3][i]!, 6));
  });

  it('a sidecar that is not XMP costs only itself: the photo is indexed and the reason kept', async () => {
    expect(lib.row(path('IMG_0004.jpg'))).toMatchObject({ state: 'ok', meta_problem: expect.stringMatching(/IMG_0004\.xmp is not XMP/) });
    const status = await lib.engine.status();
    expect(status.metadataProblems.map((m) => m.path)).toEqual([path('IMG_0004.jpg')]);
  });

  it('filters by rating, keyword (any level of a hierarchy) and label', async () => {
    const total = async (filters: object): Promise<number> => (await lib.engine.search({ filters })).total;
    expect(await total({ minRating: 4 })).toBe(2);
    expect(await total({ minRating: 3 })).toBe(3);
    expect(await total({ keywords: ['anna'] })).toBe(1);
    expect(await total({ keywords: ['Portugal', 'holiday'] })).toBe(1);
    expect(await total({ keywords: ['Tom'] })).toBe(1);
    expect(await total({ labels: ['red', 'green'] })).toBe(2);
    // The same from the command line.
    const cli = await runCli(['--library', join(lib.root, 'library'), 'search', '--keyword', 'Portugal', '--rating', '4']);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(path('IMG_0001.jpg'));
    expect(cli.stdout).toMatch(/^1 result\(s\)/m);
    expect((await runCli(['--library', join(lib.root, 'library'), 'search', '--rating', '9'])).stderr).toMatch(/a rating is a whole number of stars/);
  });

  it('ranks first the photos whose keyword, title or description a query word matches', async () => {
    for (const [query, first] of [['Tom climbing outdoors', 'L1000001.DNG'], ['boats in a harbour', 'IMG_0002.jpg'], ['sunset at cabo', 'IMG_0001.jpg']] as const) {
      const r = await lib.engine.search({ text: query });
      expect(r.space, query).not.toBeNull();
      expect(r.hits[0]!.photo.path, query).toBe(path(first));
      expect(r.hits[0]!.matchedName, query).toBe(true);
    }
  });

  it('re-reads a photo whose sidecar changed', async () => {
    writeFileSync(path('L1000001.DNG.xmp'), xmp(bag('dc:subject', ['bouldering', 'Sintra']), 'xmp:Rating="5"'));
    const later = new Date(Date.now() + 5_000);
    utimesSync(path('L1000001.DNG.xmp'), later, later);
    const scan = await lib.engine.scan();
    expect(scan.changed).toBe(1);
    await lib.engine.index();
    const dng = (await lib.engine.getPhoto(id('L1000001.DNG')))!;
    expect(dng.rating).toBe(5);
    expect([...dng.keywords].sort()).toEqual(['bouldering', 'Sintra'].sort());
    expect(dng.label).toBeNull();
  });
});
