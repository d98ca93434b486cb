/**
 * The INRIA Copydays protocol built from any folder of photos (Douze et al., "Evaluation of GIST
 * descriptors for web-scale image search", 2009): every original is attacked — crops removing
 * 10–80 % of its surface, scaling, JPEG at quality 3–75, rotation, colour and contrast changes,
 * blur, mirroring and "strong" combinations — and each attacked picture is a query whose one
 * relevant picture is its original, among the other originals and generated distractors.
 *
 * Distractors are made from the photos without copying any of them: a grid of small tiles, each
 * cut from a different photo at a random place, scale and tint (real picture statistics, no
 * original's layout), so the only near-copy of an original in the database is the original.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import sharp, { type OverlayOptions, type Region, type Sharp } from 'sharp';
import { rng } from '../../main/util/random.js';
import { evenSample, listImages } from './files.js';
import { DatasetError } from './types.js';

/** One attack: its family (the table's row), its name and what it does to the decoded original. */
export interface Attack {
  readonly family: AttackFamily;
  readonly name: string;
  readonly apply: (img: Decoded, rand: () => number) => Promise<Buffer>;
}

export const ATTACK_FAMILIES = ['crop', 'scale', 'jpeg', 'rotate', 'colour', 'blur', 'mirror', 'strong'] as const;
export type AttackFamily = (typeof ATTACK_FAMILIES)[number];

/** An original decoded once, upright, as raw RGB. */
export interface Decoded {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

export interface CopydaysQuery {
  /** Path of the attacked picture (outside the library folder). */
  readonly file: string;
  readonly family: AttackFamily;
  readonly attack: string;
  /** Key (path under the library folder) of the one relevant picture. */
  readonly original: string;
}

export interface CopydaysSet {
  readonly title: string;
  /** Library folder: `originals/…` (links to the photos) and `distractors/…` (generated). */
  readonly library: string;
  readonly originals: readonly string[];
  readonly distractors: readonly string[];
  readonly queries: readonly CopydaysQuery[];
}

export interface CopydaysOptions {
  /** Generated distractors added to the originals (default 100). */
  readonly distractors?: number;
  readonly seed?: number;
  /** Only these families (default all). */
  readonly families?: readonly AttackFamily[];
  /** At most this many originals (an even sample), for a quick run. */
  readonly maxOriginals?: number;
}

const raw = (img: Decoded): Sharp => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
const jpeg = (s: Sharp, quality = 92): Promise<Buffer> => s.jpeg({ quality, chromaSubsampling: quality >= 90 ? '4:4:4' : '4:2:0' }).toBuffer();

/** Keeps `keep` of the surface, at a random place, in the original's proportions. */
function cropBox(img: Decoded, keep: number, rand: () => number): Region {
  const side = Math.sqrt(keep);
  const width = Math.max(8, Math.round(img.width * side));
  const height = Math.max(8, Math.round(img.height * side));
  return { left: Math.floor(rand() * (img.width - width + 1)), top: Math.floor(rand() * (img.height - height + 1)), width, height };
}

async function decodedOf(buf: Buffer): Promise<Decoded> {
  const { data, info } = await sharp(buf).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Turned by `degrees` about the centre, cut back to the original frame (corners filled black, as the benchmark's). */
async function rotated(img: Decoded, degrees: number): Promise<Decoded> {
  const { data, info } = await raw(img).rotate(degrees, { background: '#000' }).raw().toBuffer({ resolveWithObject: true });
  const left = Math.max(0, Math.floor((info.width - img.width) / 2));
  const top = Math.max(0, Math.floor((info.height - img.height) / 2));
  return decodedOf(await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .extract({ left, top, width: Math.min(img.width, info.width), height: Math.min(img.height, info.height) })
    .png({ compressionLevel: 1 }).toBuffer());
}

const scaled = (img: Decoded, f: number): Sharp =>
  raw(img).resize(Math.max(8, Math.round(img.width * f)), Math.max(8, Math.round(img.height * f)), { kernel: 'lanczos3' });

async function then(img: Promise<Buffer>): Promise<Decoded> {
  return decodedOf(await img);
}

/** The attacks, as Copydays groups them (plus scaling, blur and mirroring, which its "strong" set mixes in). */
export const ATTACKS: readonly Attack[] = [
  ...[10, 20, 30, 40, 50, 60, 70, 80].map((p): Attack => ({
    family: 'crop', name: `crop${p}`, apply: (img, rand) => jpeg(raw(img).extract(cropBox(img, 1 - p / 100, rand))),
  })),
  ...[2, 4, 8].map((d): Attack => ({ family: 'scale', name: `scale1_${d}`, apply: (img) => jpeg(scaled(img, 1 / d)) })),
  ...[75, 50, 30, 20, 15, 10, 8, 5, 3].map((q): Attack => ({ family: 'jpeg', name: `jpeg${q}`, apply: (img) => jpeg(raw(img), q) })),
  ...[5, 10, -12, 20].map((a): Attack => ({ family: 'rotate', name: `rotate${a}`, apply: async (img) => jpeg(raw(await rotated(img, a))) })),
  { family: 'colour', name: 'bright1.5', apply: (img) => jpeg(raw(img).modulate({ brightness: 1.5 })) },
  { family: 'colour', name: 'dark0.5', apply: (img) => jpeg(raw(img).modulate({ brightness: 0.5 })) },
  { family: 'colour', name: 'contrast0.6', apply: (img) => jpeg(raw(img).linear(0.6, 128 * 0.4)) },
  { family: 'colour', name: 'contrast1.6', apply: (img) => jpeg(raw(img).linear(1.6, -128 * 0.6)) },
  { family: 'colour', name: 'hue90', apply: (img) => jpeg(raw(img).modulate({ hue: 90 })) },
  { family: 'colour', name: 'grey', apply: (img) => jpeg(raw(img).greyscale().toColourspace('srgb')) },
  ...[1, 3, 6].map((s): Attack => ({ family: 'blur', name: `blur${s}`, apply: (img) => jpeg(raw(img).blur(s)) })),
  { family: 'mirror', name: 'mirror', apply: (img) => jpeg(raw(img).flop()) },
  {
    family: 'strong', name: 'crop50+rotate10+jpeg20',
    apply: async (img, rand) => jpeg(raw(await rotated(await then(raw(img).extract(cropBox(img, 0.5, rand))
      .png({ compressionLevel: 1 }).toBuffer()), 10)), 20),
  },
  {
    family: 'strong', name: 'mirror+grey+crop30',
    apply: (img, rand) => jpeg(raw(img).extract(cropBox(img, 0.7, rand)).flop().greyscale().toColourspace('srgb'), 60),
  },
  {
    family: 'strong', name: 'print-scan',
    // A print photographed again: small, soft, washed-out and warm, recompressed.
    apply: async (img) => jpeg(raw(await then(scaled(img, 0.35).png({ compressionLevel: 1 }).toBuffer())).blur(1.2)
      .linear(0.75, 40).modulate({ saturation: 0.7, hue: 8 }), 30),
  },
  { family: 'strong', name: 'dark+shrink', apply: async (img) => jpeg(scaled(img, 0.3).modulate({ brightness: 0.55 }), 50) },
  {
    family: 'strong', name: 'banner+crop20',
    // A caption bar over the bottom fifth, as shared pictures often have.
    apply: async (img, rand) => {
      const c = await then(raw(img).extract(cropBox(img, 0.8, rand)).png({ compressionLevel: 1 }).toBuffer());
      const bar = Math.max(4, Math.round(c.height / 5));
      const colour = { r: Math.floor(rand() * 255), g: Math.floor(rand() * 255), b: Math.floor(rand() * 255) };
      const overlay = await sharp({ create: { width: c.width, height: bar, channels: 3, background: colour } }).png().toBuffer();
      return jpeg(raw(c).composite([{ input: overlay, left: 0, top: c.height - bar }]), 70);
    },
  },
];

/** Largest side the originals are decoded at for attacks and tiles (what a 12 MP photo shrinks to first). */
const WORK_SIDE = 1024;

async function decodeOriginal(path: string): Promise<Decoded> {
  const { data, info } = await sharp(path, { failOn: 'error' }).autoOrient().removeAlpha()
    .resize(WORK_SIDE, WORK_SIDE, { fit: 'inside', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** A distractor: a grid of tiles, each from a different photo, at a random place, scale, flip and tint. */
async function distractor(sources: readonly Decoded[], rand: () => number): Promise<Buffer> {
  const landscape = rand() < 0.7;
  const [cols, rows] = landscape ? [4, 3] : [3, 4];
  const tile = 96 + Math.floor(rand() * 64);
  const width = cols * tile;
  const height = rows * tile;
  const order = sources.map((_, i) => i).sort(() => rand() - 0.5);
  const tiles: OverlayOptions[] = [];
  for (let i = 0; i < cols * rows; i++) {
    const src = sources[order[i % order.length]!]!;
    const side = Math.max(16, Math.floor(Math.min(src.width, src.height) * (0.12 + rand() * 0.25)));
    const left = Math.floor(rand() * (src.width - side + 1));
    const top = Math.floor(rand() * (src.height - side + 1));
    let s = raw(src).extract({ left, top, width: side, height: side }).resize(tile, tile);
    if (rand() < 0.5) s = s.flop();
    s = s.modulate({ brightness: 0.7 + rand() * 0.6, saturation: 0.6 + rand() * 0.8, hue: Math.floor(rand() * 60 - 30) });
    tiles.push({ input: await s.png({ compressionLevel: 1 }).toBuffer(), left: (i % cols) * tile, top: Math.floor(i / cols) * tile });
  }
  return sharp({ create: { width, height, channels: 3, background: '#808080' } }).composite(tiles).jpeg({ quality: 88 }).toBuffer();
}

/**
 * Writes the set under `out`: the library folder (originals linked by the caller's `link`,
 * distractors written) and the attacked queries beside it. Originals that cannot be decoded are
 * left out, with a line through `log`.
 */
export async function buildCopydays(
  dir: string, out: string, link: (from: string, to: string) => Promise<void>,
  opts: CopydaysOptions = {}, log: (s: string) => void = () => {},
): Promise<CopydaysSet> {
  // The same attacks and distractors for the same seed on every machine.
  const rand = rng(opts.seed ?? 1);
  const families = new Set(opts.families ?? ATTACK_FAMILIES);
  const attacks = ATTACKS.filter((a) => families.has(a.family));
  const library = join(out, 'library');
  const queriesDir = join(out, 'queries');
  const originals: string[] = [];
  const decoded: Decoded[] = [];
  const queries: CopydaysQuery[] = [];
  for (const key of evenSample(listImages(dir), opts.maxOriginals)) {
    let img: Decoded;
    try {
      img = await decodeOriginal(join(dir, ...key.split('/')));
    } catch (err) {
      log(`  ${key}: left out (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
      continue;
    }
    const libKey = `originals/${key}`;
    const to = join(library, ...libKey.split('/'));
    await mkdir(dirname(to), { recursive: true });
    await link(join(dir, ...key.split('/')), to);
    originals.push(libKey);
    decoded.push(img);
    const stem = key.slice(0, key.length - extname(key).length).replace(/[/\\]/g, '__');
    for (const a of attacks) {
      const file = join(queriesDir, a.family, `${stem}__${a.name.replace(/[^a-z0-9._-]+/gi, '_')}.jpg`);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, await a.apply(img, rand));
      queries.push({ file, family: a.family, attack: a.name, original: libKey });
    }
  }
  if (originals.length < 2) throw new DatasetError(`${dir} has fewer than two readable photos: a Copydays set needs originals and distractors`);
  const distractors: string[] = [];
  const count = opts.distractors ?? 100;
  await mkdir(join(library, 'distractors'), { recursive: true });
  for (let i = 0; i < count; i++) {
    const key = `distractors/mix-${String(i).padStart(5, '0')}.jpg`;
    await writeFile(join(library, ...key.split('/')), await distractor(decoded, rand));
    distractors.push(key);
    if ((i + 1) % 500 === 0) log(`  ${i + 1}/${count} distractors`);
  }
  const title = `Copydays protocol on ${basename(dir)}: ${originals.length} originals × ${attacks.length} attacks = ${queries.length} queries; `
    + `database ${originals.length + distractors.length} pictures (${originals.length} originals, ${distractors.length} generated tile-mix distractors)`;
  return { title, library, originals, distractors, queries };
}
