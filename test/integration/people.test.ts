/**
 * The face stage over a real library, with the real weights: the astronaut's photo and copies of
 * it rescaled, recompressed, cropped and mirrored (separate files, separate contents), the walker
 * in darknet-person.jpg, a dog and a landscape. Faces are found once per picture, grouped so the
 * astronaut is one person in five photos and the walker another, the dog and the landscape have
 * none; a copy of a photo is not looked at again; a deleted photo takes its faces with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { FaceDetector, FaceEmbedder } from '../../main/encoders/faces.js';
import { findFaces, type FaceModels } from '../../main/faces/stage.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';
import { HAVE_FACE_MODELS, HAVE_SHARED_PHOTOS, SHARED_MODELS, SHARED_PHOTOS } from '../helpers/shared.js';

const HAVE = HAVE_SHARED_PHOTOS && HAVE_FACE_MODELS;
const ASTRONAUT = join(SHARED_PHOTOS, 'objects/skimage-astronaut.png');
let lib: TestLibrary;
let models: FaceModels;

const personOf = (name: string): number[] => {
  const row = lib.row(join(lib.photos, name))!;
  return lib.engine.internals.repos.faces.ofHash(row.hash!, models.name).map((f) => f.personId ?? 0);
};

describe.skipIf(!HAVE)('people, with the real face models (../shared)', () => {
  beforeAll(async () => {
    lib = testLibrary();
    mkdirSync(lib.photos, { recursive: true });
    copyFileSync(ASTRONAUT, join(lib.photos, 'astronaut.png'));
    await sharp(ASTRONAUT).resize(300).jpeg({ quality: 90 }).toFile(join(lib.photos, 'astronaut-small.jpg'));
    await sharp(ASTRONAUT).jpeg({ quality: 40 }).toFile(join(lib.photos, 'astronaut-q40.jpg'));
    await sharp(ASTRONAUT).extract({ left: 100, top: 20, width: 300, height: 300 }).png().toFile(join(lib.photos, 'astronaut-crop.png'));
    await sharp(ASTRONAUT).flop().png().toFile(join(lib.photos, 'astronaut-mirror.png'));
    copyFileSync(join(SHARED_PHOTOS, 'objects/darknet-person.jpg'), join(lib.photos, 'walker.jpg'));
    copyFileSync(join(SHARED_PHOTOS, 'objects/darknet-dog.jpg'), join(lib.photos, 'dog.jpg'));
    copyFileSync(join(SHARED_PHOTOS, 'scenes/kde-path.jpg'), join(lib.photos, 'path.jpg'));
    await lib.engine.addFolder(lib.photos);
    await lib.engine.scan();
    expect((await lib.engine.index()).failed).toBe(0);
    models = {
      name: 'blazeface+mobilefacenet',
      detector: await FaceDetector.load(join(SHARED_MODELS, 'blazeface-back')),
      embedder: await FaceEmbedder.load(join(SHARED_MODELS, 'mobilefacenet')),
    };
  }, 120_000);

  afterAll(async () => {
    await Promise.all([models?.detector.close(), models?.embedder.close()]);
    await lib?.close();
  });

  it('finds the faces, and groups the same face in five photos as one person and the walker as another', async () => {
    // Stopped after three pictures (as a pause does), then carried on: nothing is looked at twice.
    const stop = new AbortController();
    const first = await findFaces(lib.engine.internals, models, { signal: stop.signal, onProgress: (done) => { if (done === 3) stop.abort(); } });
    expect(first.pictures).toBe(3);
    const rest = await findFaces(lib.engine.internals, models);
    expect(rest.pictures).toBe(5);
    const s = { ...rest, pictures: first.pictures + rest.pictures, faces: first.faces + rest.faces, failed: first.failed + rest.failed,
      newPeople: first.newPeople + rest.newPeople, ms: first.ms + rest.ms };
    console.log(`face stage: ${s.pictures} pictures in ${s.ms} ms (${(s.pictures / (s.ms / 1000)).toFixed(1)} pictures/s), ${s.faces} faces, ${s.newPeople} people`);
    expect(s).toMatchObject({ pictures: 8, failed: 0 });
    const astronaut = personOf('astronaut.png');
    expect(astronaut).toHaveLength(1);
    expect(astronaut[0]).toBeGreaterThan(0);
    for (const copy of ['astronaut-small.jpg', 'astronaut-q40.jpg', 'astronaut-crop.png', 'astronaut-mirror.png']) {
      expect(personOf(copy), copy).toEqual(astronaut);
    }
    const walker = personOf('walker.jpg');
    expect(walker).toHaveLength(1);
    expect(walker[0]).not.toBe(astronaut[0]);
    expect(personOf('dog.jpg')).toEqual([]);
    expect(personOf('path.jpg')).toEqual([]);
    const people = lib.engine.internals.repos.faces.people();
    expect(people[0]).toMatchObject({ id: astronaut[0], faces: 5, photos: 5, name: null });
    // The face's box, as a fraction of the picture, where it was marked by hand (170,70–280,185 of 512×512).
    const [face] = lib.engine.internals.repos.faces.ofHash(lib.row(join(lib.photos, 'astronaut.png'))!.hash!, models.name);
    expect(face!.box.x).toBeCloseTo(170 / 512, 1);
    expect(face!.box.y).toBeCloseTo(70 / 512, 1);
  }, 120_000);

  it('does not look at a copy of a photo again, and forgets the faces of a deleted photo', async () => {
    copyFileSync(join(lib.photos, 'walker.jpg'), join(lib.photos, 'walker-copy.jpg'));
    rmSync(join(lib.photos, 'astronaut-mirror.png'));
    writeFileSync(join(lib.photos, 'later.png'), await sharp(ASTRONAUT).resize(400).png().toBuffer());
    await lib.engine.scan();
    await lib.engine.index();
    const s = await findFaces(lib.engine.internals, models);
    // Only the new picture: the copy has the walker's content, already looked at.
    expect(s.pictures).toBe(1);
    expect(personOf('walker-copy.jpg')).toEqual(personOf('walker.jpg'));
    expect(personOf('later.png')).toEqual(personOf('astronaut.png'));
    const people = lib.engine.internals.repos.faces.people();
    expect(people[0]).toMatchObject({ faces: 5, photos: 5 });
  }, 120_000);

  it('a face named in another app (an MWG region in a Lightroom sidecar) names the person it is', async () => {
    const before = lib.engine.internals.repos.faces.people();
    await sharp(ASTRONAUT).resize(448).jpeg({ quality: 92 }).toFile(join(lib.photos, 'named.jpg'));
    // Her face as Lightroom draws it: centre and size, as fractions (the hand-marked box 170,70–280,185 of 512).
    writeFileSync(join(lib.photos, 'named.xmp'), `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">
<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag><rdf:li rdf:parseType="Resource"><mwg-rs:Name>Eileen Collins</mwg-rs:Name>
<mwg-rs:Type>Face</mwg-rs:Type><mwg-rs:Area stArea:x="0.439" stArea:y="0.249" stArea:w="0.215" stArea:h="0.225"/></rdf:li></rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>
</rdf:Description></rdf:RDF></x:xmpmeta>`);
    await lib.engine.scan();
    await lib.engine.index();
    await findFaces(lib.engine.internals, models);
    const [face] = lib.engine.internals.repos.faces.ofHash(lib.row(join(lib.photos, 'named.jpg'))!.hash!, models.name);
    expect(face).toMatchObject({ personId: personOf('astronaut.png')[0], assignedBy: 'user' });
    const after = lib.engine.internals.repos.faces.people();
    expect(after).toHaveLength(before.length);
    expect(after[0]).toMatchObject({ id: before[0]!.id, name: 'Eileen Collins', photos: 6 });
  }, 120_000);

  it('a newly active face pack carries names over: the same faces, found again, are the same people', async () => {
    const other: FaceModels = {
      name: 'fullrange+mobilefacenet',
      detector: await FaceDetector.load(join(SHARED_MODELS, 'facemesh-detection-full')),
      embedder: models.embedder,
    };
    try {
      const before = lib.engine.internals.repos.faces.people();
      const s = await findFaces(lib.engine.internals, other);
      expect(s.newPeople).toBe(0);
      const eileen = before[0]!;
      const faces = lib.engine.internals.db.prepare("SELECT DISTINCT person_id FROM faces WHERE model = ? AND hash IN (SELECT hash FROM photos WHERE path LIKE '%astronaut%' OR path LIKE '%named%')")
        .all(other.name) as { person_id: number }[];
      expect(faces.map((f) => f.person_id)).toEqual([eileen.id]);
      expect(lib.engine.internals.repos.faces.person(eileen.id)!.name).toBe('Eileen Collins');
    } finally {
      await other.detector.close();
    }
  }, 120_000);
});
