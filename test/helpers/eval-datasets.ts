/**
 * Tiny retrieval datasets in the standard layouts, drawn by sharp: scenes of a coloured shape on
 * a coloured ground, each photographed several times (shifted, rescaled, recompressed), so the
 * right answers are known. Used to run `npm run eval` end to end.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

export interface Scene {
  readonly name: string;
  readonly ground: string;
  readonly colour: string;
  readonly shape: 'circle' | 'square' | 'triangle' | 'bar';
  /** Words for captions and class names. */
  readonly words: string;
}

export const SCENES: readonly Scene[] = [
  { name: 'red_circle', ground: '#1f3f9f', colour: '#e02020', shape: 'circle', words: 'red circle on a blue background' },
  { name: 'yellow_square', ground: '#206020', colour: '#f0e020', shape: 'square', words: 'yellow square on a green background' },
  { name: 'white_triangle', ground: '#202020', colour: '#f8f8f8', shape: 'triangle', words: 'white triangle on a black background' },
  { name: 'orange_bar', ground: '#a0d0f0', colour: '#f08010', shape: 'bar', words: 'orange bar on a pale blue background' },
  { name: 'purple_circle', ground: '#f0f0d0', colour: '#702090', shape: 'circle', words: 'purple circle on a cream background' },
  { name: 'cyan_square', ground: '#702020', colour: '#20e0e0', shape: 'square', words: 'cyan square on a dark red background' },
];

const W = 320;
const H = 240;

/** The shape's box (pixels) in a variant: variants move and resize it a little. */
export function shapeBox(variant: number): [number, number, number, number] {
  const dx = (variant % 3) * 12 - 12;
  const dy = (variant % 2) * 10 - 5;
  const s = 110 + (variant % 4) * 8;
  const x = 105 + dx;
  const y = 65 + dy;
  return [x, y, x + s, y + s];
}

function shapeSvg(scene: Scene, [x1, y1, x2, y2]: [number, number, number, number]): string {
  const w = x2 - x1;
  const c = scene.colour;
  switch (scene.shape) {
    case 'circle': return `<circle cx="${x1 + w / 2}" cy="${y1 + w / 2}" r="${w / 2}" fill="${c}"/>`;
    case 'square': return `<rect x="${x1}" y="${y1}" width="${w}" height="${w}" fill="${c}"/>`;
    case 'triangle': return `<polygon points="${x1},${y2} ${x1 + w / 2},${y1} ${x2},${y2}" fill="${c}"/>`;
    case 'bar': return `<rect x="${x1}" y="${y1 + w * 0.35}" width="${w}" height="${w * 0.3}" fill="${c}"/>`;
  }
}

/** One photo of a scene: variant 0 is the reference; later ones move, rescale and recompress it. */
export async function drawScene(scene: Scene, variant: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="${W}" height="${H}" fill="${scene.ground}"/>` +
    `<rect x="10" y="${H - 40}" width="60" height="30" fill="#808080"/>${shapeSvg(scene, shapeBox(variant))}</svg>`;
  const scale = 1 - (variant % 3) * 0.1;
  return sharp(Buffer.from(svg)).resize(Math.round(W * scale), Math.round(H * scale)).jpeg({ quality: 70 + (variant % 4) * 8 }).toBuffer();
}

async function write(path: string, data: Buffer | string): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, data);
}

/** INRIA Holidays: NNNNNN.jpg, scene = number / 100, query = the first of each scene. One member is a truncated file. */
export async function writeHolidays(dir: string, perScene = 4): Promise<void> {
  for (const [g, scene] of SCENES.entries()) {
    for (let v = 0; v < perScene; v++) await write(join(dir, `${100000 + g * 100 + v}.jpg`), await drawScene(scene, v));
  }
  // A damaged picture among the relevant ones: indexing records it and the evaluation goes on.
  const broken = await drawScene(SCENES[0]!, 9);
  await write(join(dir, `${100000 + perScene}.jpg`), broken.subarray(0, 200));
}

/** UKBench: ukbenchNNNNN.jpg in fours. */
export async function writeUkbench(dir: string): Promise<void> {
  for (const [g, scene] of SCENES.entries()) {
    for (let v = 0; v < 4; v++) await write(join(dir, `ukbench${String(g * 4 + v).padStart(5, '0')}.jpg`), await drawScene(scene, v));
  }
}

/**
 * Oxford5k layout: jpg/NAME_00000V.jpg and gt/NAME_1_{query,good,ok,junk}.txt. Variant 0 is the
 * query (its shape's box), 1–2 good, 3 ok, and a fifth picture (the ground alone, shape cut
 * away) is junk.
 */
export async function writeOxford(dir: string): Promise<{ gt: string }> {
  const gt = join(dir, 'gt');
  for (const scene of SCENES) {
    const names = [0, 1, 2, 3].map((v) => `${scene.name}_${String(v).padStart(6, '0')}`);
    for (const [v, n] of names.entries()) await write(join(dir, 'jpg', `${n}.jpg`), await drawScene(scene, v));
    const junk = `${scene.name}_000099`;
    await write(join(dir, 'jpg', `${junk}.jpg`), await sharp(await drawScene(scene, 0)).extract({ left: 0, top: 0, width: 100, height: 80 }).jpeg().toBuffer());
    const [x1, y1, x2, y2] = shapeBox(0);
    await write(join(gt, `${scene.name}_1_query.txt`), `oxc1_${names[0]} ${x1 - 4}.5 ${y1 - 4}.0 ${x2 + 4}.0 ${y2 + 4}.5\n`);
    await write(join(gt, `${scene.name}_1_good.txt`), `${names[0]}\n${names[1]}\n${names[2]}\n`);
    await write(join(gt, `${scene.name}_1_ok.txt`), `${names[3]}\n`);
    await write(join(gt, `${scene.name}_1_junk.txt`), `${junk}\n`);
  }
  return { gt };
}

/**
 * Revisited layout: jpg/ with database and query pictures and gnd_rshapes.pkl written by Python's
 * pickle (as revisitop's files are): variants 1–2 easy, 3 hard, the cut-out ground junk; queries
 * (variant 0) are not in imlist.
 */
export async function writeRevisited(dir: string, numpy = false): Promise<void> {
  const imlist: string[] = [];
  const qimlist: string[] = [];
  const gnd: { bbx: number[]; easy: number[]; hard: number[]; junk: number[] }[] = [];
  for (const scene of SCENES) {
    const q = `q_${scene.name}`;
    await write(join(dir, 'jpg', `${q}.jpg`), await drawScene(scene, 0));
    qimlist.push(q);
    const at = (name: string): number => imlist.push(name) - 1;
    const easy = [1, 2].map((v) => at(`${scene.name}_${v}`));
    const hard = [at(`${scene.name}_3`)];
    const junk = [at(`${scene.name}_junk`)];
    for (const v of [1, 2, 3]) await write(join(dir, 'jpg', `${scene.name}_${v}.jpg`), await drawScene(scene, v));
    await write(join(dir, 'jpg', `${scene.name}_junk.jpg`), await sharp(await drawScene(scene, 0)).extract({ left: 0, top: 0, width: 100, height: 80 }).jpeg().toBuffer());
    gnd.push({ bbx: shapeBox(0), easy, hard, junk });
  }
  const wrap = numpy ? (a: number[]): string => `np.array(${JSON.stringify(a)}, dtype=np.int64)` : (a: number[]): string => JSON.stringify(a);
  const gndPy = `[${gnd.map((g) => `{'bbx': ${numpy ? `np.array(${JSON.stringify(g.bbx)}, dtype=np.float64)` : JSON.stringify(g.bbx)}, 'easy': ${wrap(g.easy)}, 'hard': ${wrap(g.hard)}, 'junk': ${wrap(g.junk)}}`).join(', ')}]`;
  const code = `import pickle${numpy ? ', numpy as np' : ''}\npickle.dump({'imlist': ${JSON.stringify(imlist)}, 'qimlist': ${JSON.stringify(qimlist)}, 'gnd': ${gndPy}}, open(${JSON.stringify(join(dir, 'gnd_rshapes.pkl'))}, 'wb'), protocol=2)`;
  const r = spawnSync('python3', ['-c', code]);
  if (r.status !== 0) throw new Error(`python3 could not write the pickle: ${r.stderr.toString()}`);
}

/** Flickr8k-style captions.txt ("image,caption", two captions a picture). */
export async function writeCaptions(dir: string): Promise<void> {
  const lines = ['image,caption'];
  for (const scene of SCENES) {
    for (const v of [0, 1]) {
      const name = `${scene.name}_${v}.jpg`;
      await write(join(dir, 'Images', name), await drawScene(scene, v));
      lines.push(`${name},a ${scene.words}`, `${name},"a photo of a ${scene.words}, seen from afar"`);
    }
  }
  await write(join(dir, 'captions.txt'), lines.join('\n') + '\n');
}

/** CUB-style class folders: 00N.Name/NAME_V.jpg. */
export async function writeClasses(dir: string, perClass = 3): Promise<void> {
  for (const [g, scene] of SCENES.entries()) {
    const folder = `${String(g + 1).padStart(3, '0')}.${scene.name}`;
    for (let v = 0; v < perClass; v++) await write(join(dir, folder, `${scene.name}_${v}.jpg`), await drawScene(scene, v));
  }
}
