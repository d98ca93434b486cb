/**
 * Region search with localisation, measured: an object's box is cut from one real photo and
 * pasted into other real scenes at known boxes, scales and lighting; the query is the box drawn
 * on the original photo, and every scene holding the paste is relevant. The clean scenes stay in
 * the database beside their pasted copies, so a hit must come from the object, not the scene.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import { rng } from '../../main/util/random.js';
import { evenSample, listImages } from './files.js';
import { DatasetError, type PixelBox } from './types.js';

export interface LocalisationObject {
  readonly name: string;
  /** Key of the photo it is cut from. */
  readonly image: string;
  /** Where it is in that photo (stored pixels, upright). */
  readonly box: PixelBox;
}

/** Objects of the shared real photos (boxes drawn by hand on them), found by file name. */
export const SHARED_OBJECTS: readonly { readonly name: string; readonly file: string; readonly box: PixelBox }[] = [
  { name: 'dog', file: 'darknet-dog.jpg', box: [130, 220, 310, 540] },
  { name: 'eagle', file: 'darknet-eagle.jpg', box: [130, 85, 600, 450] },
  { name: 'coffee cup', file: 'skimage-coffee.png', box: [75, 15, 480, 390] },
];

const ObjectsFile = z.array(z.object({
  name: z.string().min(1),
  image: z.string().min(1),
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
}));

/** A pasted copy: the scene it went into and where (fractions of the composite). */
export interface Paste {
  /** Key of the composite in the library. */
  readonly key: string;
  readonly object: string;
  readonly box: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  /** The object's longer side over the scene's shorter side. */
  readonly scale: number;
  readonly light: number;
}

export interface LocalisationSet {
  readonly title: string;
  readonly library: string;
  /** Library keys: the objects' source photos, the clean scenes and the composites. */
  readonly pictures: readonly string[];
  readonly objects: readonly (LocalisationObject & { readonly key: string })[];
  readonly pastes: readonly Paste[];
}

export interface LocalisationOptions {
  /** A JSON list of {name, image, box: [x1, y1, x2, y2]} (default: the shared photos' dog, eagle and cup). */
  readonly objects?: string;
  /** Sizes pasted: the object's longer side over the scene's shorter side. */
  readonly scales?: readonly number[];
  readonly seed?: number;
  /** At most this many scenes per object (an even sample). */
  readonly maxScenes?: number;
}

const LIGHTS = [0.7, 1, 1.3] as const;
const SCENE_SIDE = 1024;

function objectsOf(dir: string, keys: readonly string[], file: string | undefined): LocalisationObject[] {
  if (file) {
    const parsed = ObjectsFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new DatasetError(`${file}: expected [{"name", "image", "box": [x1, y1, x2, y2]}]: ${parsed.error.issues[0]?.message}`);
    for (const o of parsed.data) if (!keys.includes(o.image)) throw new DatasetError(`${file}: ${o.image} is not a picture under ${dir}`);
    return parsed.data.map((o) => ({ ...o, box: o.box as unknown as PixelBox }));
  }
  const found = SHARED_OBJECTS.flatMap((o) => {
    const key = keys.find((k) => basename(k) === o.file);
    return key ? [{ name: o.name, image: key, box: o.box }] : [];
  });
  if (found.length === 0) throw new DatasetError(`${dir} has none of ${SHARED_OBJECTS.map((o) => o.file).join(', ')}: say which objects to paste with --objects FILE`);
  return found;
}

/** Writes the composites under `out/library/composites` and links the photos beside them. */
export async function buildLocalisation(
  dir: string, out: string, link: (from: string, to: string) => Promise<void>, opts: LocalisationOptions = {},
): Promise<LocalisationSet> {
  const keys = listImages(dir);
  const objects = objectsOf(dir, keys, opts.objects);
  const rand = rng(opts.seed ?? 7);
  const library = join(out, 'library');
  const sources = new Set(objects.map((o) => o.image));
  const scenes = keys.filter((k) => !sources.has(k));
  if (scenes.length === 0) throw new DatasetError(`${dir} has no photo to paste into besides the objects' own`);
  const pictures: string[] = [];
  for (const k of keys) {
    const to = join(library, 'photos', ...k.split('/'));
    await mkdir(dirname(to), { recursive: true });
    await link(join(dir, ...k.split('/')), to);
    pictures.push(`photos/${k}`);
  }
  const scales = opts.scales ?? [0.3, 0.5, 0.7];
  const pastes: Paste[] = [];
  await mkdir(join(library, 'composites'), { recursive: true });
  for (const o of objects) {
    const [x1, y1, x2, y2] = o.box;
    const cut = await sharp(join(dir, ...o.image.split('/'))).removeAlpha()
      .extract({ left: Math.round(x1), top: Math.round(y1), width: Math.round(x2 - x1), height: Math.round(y2 - y1) }).png().toBuffer();
    for (const scene of evenSample(scenes, opts.maxScenes)) {
      const { data, info } = await sharp(join(dir, ...scene.split('/'))).autoOrient().removeAlpha()
        .resize(SCENE_SIDE, SCENE_SIDE, { fit: 'inside', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
      for (const scale of scales) {
        const light = LIGHTS[Math.floor(rand() * LIGHTS.length)]!;
        const long = Math.round(scale * Math.min(info.width, info.height));
        const aspect = (x2 - x1) / (y2 - y1);
        const w = Math.max(8, Math.round(aspect >= 1 ? long : long * aspect));
        const h = Math.max(8, Math.round(aspect >= 1 ? long / aspect : long));
        const left = Math.floor(rand() * (info.width - w + 1));
        const top = Math.floor(rand() * (info.height - h + 1));
        const patch = await sharp(cut).resize(w, h).modulate({ brightness: light }).png().toBuffer();
        const stem = `${o.name.replace(/[^a-z0-9]+/gi, '-')}__${basename(scene, extname(scene))}__s${Math.round(scale * 100)}`;
        const key = `composites/${stem}.jpg`;
        const jpg = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
          .composite([{ input: patch, left, top }]).jpeg({ quality: 90 }).toBuffer();
        await writeFile(join(library, ...key.split('/')), jpg);
        pictures.push(key);
        const at = { x: left / info.width, y: top / info.height, w: w / info.width, h: h / info.height };
        pastes.push({ key, object: o.name, box: at, scale, light });
      }
    }
  }
  const sceneCount = evenSample(scenes, opts.maxScenes).length;
  const title = `localisation on ${basename(dir)}: ${objects.length} objects (${objects.map((o) => o.name).join(', ')}) pasted into `
    + `${sceneCount} scenes each at scales ${scales.join('/')} (${pastes.length} composites) and light ${LIGHTS.join('/')}; `
    + `database ${pictures.length} pictures`;
  return { title, library, pictures, objects: objects.map((o) => ({ ...o, key: `photos/${o.image}` })), pastes };
}
