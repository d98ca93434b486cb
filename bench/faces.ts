/**
 * npm run bench:faces — the face stage with the real weights in ../shared/models, on a generated
 * test set made from the real photos in ../shared/data/photos (boxes known):
 *  - detection recall by face size: the astronaut's face pasted at 20–96 px into each real scene,
 *    found over the whole picture and through tiles (IoU ≥ 0.5 with the pasted box), and the false
 *    faces found on the same scenes without a face;
 *  - grouping: photos of her face (pasted at 40–96 px into the scenes, mirrored, recompressed,
 *    rescaled) and of the walker, indexed by the real engine with the face pack: purity (faces of
 *    each person that are the one person) and recall (her faces in her largest person);
 *  - throughput: the face stage's pictures per second on this CPU, and its share of `loupe index`.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { iou, type PixelBox } from '../main/encoders/face-geometry.js';
import { confirmedFaces, FaceDetector, rgbPicture, type FoundFace } from '../main/encoders/faces.js';
import { Engine } from '../main/engine/engine.js';
import { facePackFromShared, SHARED_MODELS, SHARED_PHOTOS } from '../test/helpers/shared.js';

const ROOT = join(process.cwd(), '.bench', 'faces');
const ASTRONAUT = join(SHARED_PHOTOS, 'objects/skimage-astronaut.png');
const FACE: PixelBox = { x1: 170, y1: 70, x2: 280, y2: 185 };
/** The face with a margin, as pasted (the face box inside it is known). */
const PATCH = { left: 126, top: 24, width: 198, height: 207 };
const SIZES = [20, 24, 32, 40, 48, 64, 96];

const scenes = (): string[] => readdirSync(join(SHARED_PHOTOS, 'scenes')).filter((f) => /\.jpe?g$/i.test(f)).map((f) => join(SHARED_PHOTOS, 'scenes', f));

/** A scene at 1024 px with the face pasted at `size` px in up to three places; returns the picture and the true face boxes. */
async function pasted(scene: string, size: number, flip: boolean, seed: number): Promise<{ png: Buffer; truth: PixelBox[] }> {
  const base = await sharp(scene).resize(1024, 683, { fit: 'cover' }).png().toBuffer();
  const k = size / (FACE.x2 - FACE.x1);
  let patch = sharp(ASTRONAUT).extract(PATCH).resize(Math.round(PATCH.width * k), Math.round(PATCH.height * k));
  if (flip) patch = patch.flop();
  const buf = await patch.png().toBuffer();
  const pw = Math.round(PATCH.width * k);
  const ph = Math.round(PATCH.height * k);
  const spots = [[0.1, 0.15], [0.55, 0.4], [0.3, 0.7]].map(([fx, fy], i) => [
    Math.round(((fx! + 0.07 * ((seed + i) % 3)) * (1024 - pw))), Math.round(((fy! + 0.05 * ((seed + i) % 2)) * (683 - ph))),
  ] as const);
  const truth = spots.map(([x, y]): PixelBox => {
    const fx1 = flip ? PATCH.width - (FACE.x2 - PATCH.left) : FACE.x1 - PATCH.left;
    return { x1: x + fx1 * k, y1: y + (FACE.y1 - PATCH.top) * k, x2: x + (fx1 + FACE.x2 - FACE.x1) * k, y2: y + (FACE.y2 - PATCH.top) * k };
  });
  return { png: await sharp(base).composite(spots.map(([left, top]) => ({ input: buf, left, top }))).png().toBuffer(), truth };
}

async function detectionRecall(detector: FaceDetector, verifier: FaceDetector): Promise<void> {
  console.log('\n| face size | recall, tiled | recall, tiled + verifier | recall, whole picture | false faces, tiled |\n| --- | --- | --- | --- | --- |');
  for (const size of SIZES) {
    let found = 0;
    let foundWhole = 0;
    let confirmed = 0;
    let total = 0;
    let wrong = 0;
    for (const [i, scene] of scenes().entries()) {
      const { png, truth } = await pasted(scene, size, i % 2 === 1, i);
      const p = await rgbPicture(png);
      const hit = (faces: readonly FoundFace[]): number => truth.filter((t) => faces.some((f) => iou(f.box, t) >= 0.5)).length;
      const tiled = await detector.detect(p);
      found += hit(tiled);
      confirmed += hit(await confirmedFaces(p, detector, verifier));
      foundWhole += hit(await detector.detect(p, { wholeOnly: true }));
      wrong += tiled.filter((f) => !truth.some((t) => iou(f.box, t) >= 0.3)).length;
      total += truth.length;
    }
    console.log(`| ${size} px | ${(found / total).toFixed(2)} (${found}/${total}) | ${(confirmed / total).toFixed(2)} | ${(foundWhole / total).toFixed(2)} | ${wrong} |`);
  }
  let empty = 0;
  for (const scene of scenes()) empty += (await detector.detect(await rgbPicture(await sharp(scene).resize(1024).png().toBuffer()))).length;
  console.log(`false faces on the ${scenes().length} scenes without a face: ${empty}`);
  // The real photos: one clear human face (the astronaut's), one weak one (the walker's), and animals.
  const real = readdirSync(join(SHARED_PHOTOS, 'objects')).map((f) => join(SHARED_PHOTOS, 'objects', f)).concat(scenes());
  let alone = 0;
  let kept = 0;
  for (const photo of real) {
    const p = await rgbPicture(photo);
    alone += (await detector.detect(p)).length;
    kept += (await confirmedFaces(p, detector, verifier)).length;
  }
  console.log(`faces on the ${real.length} real photos (1 clear face, 1 weak, animals): ${alone} by BlazeFace alone, ${kept} confirmed by the full-range detector`);
}

async function grouping(): Promise<void> {
  const photos = join(ROOT, 'photos');
  const lib = join(ROOT, 'lib');
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(photos, { recursive: true });
  const pack = join(ROOT, 'pack');
  facePackFromShared(pack);
  let hers = 0;
  for (const [i, scene] of scenes().entries()) {
    for (const size of [40, 64, 96]) {
      const { png } = await pasted(scene, size, (i + size) % 2 === 0, i);
      await sharp(png).jpeg({ quality: 60 + ((i * 7 + size) % 35) }).toFile(join(photos, `her-${i}-${size}.jpg`));
      hers += 3;
    }
  }
  writeFileSync(join(photos, 'walker.jpg'), await sharp(join(SHARED_PHOTOS, 'objects/darknet-person.jpg')).jpeg().toBuffer());
  for (const [i, scene] of scenes().entries()) await sharp(scene).resize(1024).jpeg().toFile(join(photos, `scene-${i}.jpg`));
  const e = Engine.open({ libraryDir: lib });
  try {
    await e.importModel(pack, { name: 'faces' });
    await e.addFolder(photos);
    await e.scan();
    let faceMs = 0;
    let facePictures = 0;
    const off = e.on((ev) => {
      if (ev.type === 'faces') {
        faceMs = ev.summary.ms;
        facePictures = ev.summary.pictures;
      }
    });
    const t = performance.now();
    await e.index();
    const total = performance.now() - t;
    off();
    const people = await e.listPeople();
    const byPerson = await Promise.all(people.map(async (p) => (await e.personFaces(p.id)).map((f) => (f.path.includes('/her-') ? 'her' : f.path.includes('walker') ? 'walker' : 'other'))));
    const herPeople = byPerson.map((faces) => faces.filter((f) => f === 'her').length);
    const purity = byPerson.reduce((a, faces) => a + Math.max(...['her', 'walker', 'other'].map((k) => faces.filter((f) => f === k).length)), 0)
      / Math.max(1, byPerson.reduce((a, f) => a + f.length, 0));
    console.log(`\ngrouping: ${people.length} people from ${byPerson.flat().length} grouped faces; purity ${purity.toFixed(3)}; `
      + `her faces in her largest person: ${Math.max(0, ...herPeople)} of ${hers} pasted (recall ${(Math.max(0, ...herPeople) / hers).toFixed(3)})`);
    console.log(`throughput: face stage ${facePictures} pictures in ${(faceMs / 1000).toFixed(1)} s = ${(facePictures / (faceMs / 1000)).toFixed(1)} pictures/s `
      + `on ${availableParallelism()} cores; ${((faceMs / total) * 100).toFixed(0)}% of the whole \`loupe index\` (${(total / 1000).toFixed(1)} s, no CLIP pack)`);
  } finally {
    await e.close();
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(SHARED_MODELS, 'blazeface-back', 'model.onnx')) || !existsSync(ASTRONAUT)) {
    console.log(`bench:faces needs the real weights and photos in ${SHARED_MODELS} and ${SHARED_PHOTOS}`);
    return;
  }
  console.log(`Loupe bench:faces — ${availableParallelism()} cores, BlazeFace (back), confirmed by the full-range detector, + MobileFaceNet, ${scenes().length} real scenes`);
  const detector = await FaceDetector.load(join(SHARED_MODELS, 'blazeface-back'));
  const verifier = await FaceDetector.load(join(SHARED_MODELS, 'facemesh-detection-full'));
  try {
    await detectionRecall(detector, verifier);
  } finally {
    await Promise.all([detector.close(), verifier.close()]);
  }
  await grouping();
}

await main();
