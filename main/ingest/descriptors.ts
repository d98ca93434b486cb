/**
 * What people already wrote about a photo, in Lightroom, digiKam, darktable, Apple Photos or a
 * camera: keywords (flat and hierarchical), title, description, star rating, colour label, and the
 * names on face regions (MWG and Microsoft schemas). Read from the file's embedded XMP and IPTC and
 * from an `.xmp` sidecar, which wins where both say something (it is where editors write). Loupe
 * never writes any of it back unless the user turns that on.
 */
import { readFile } from 'node:fs/promises';
import exifr from 'exifr';
import { sidecarNames } from '../contract/formats.js';
import * as exifrModule from 'exifr';
import type { Box, PhotoRegion } from '../contract/api.js';
import type { Descriptors } from '../db/repos/photos.js';
import { errorMessage } from '../util/errors.js';

export type { Descriptors };

export const NO_DESCRIPTORS: Descriptors = {
  title: null, description: null, rating: null, label: null, keywords: [], regions: [], problem: null,
};

type Tree = Record<string, unknown>;

/**
 * exifr's sidecar parser: Node loads exifr's CommonJS build, whose default export carries it;
 * bundlers (vite, for the tests) load its ES build, which exports it by name only.
 */
const parseSidecar: typeof exifrModule.sidecar = (exifr as unknown as Partial<typeof exifrModule>).sidecar ?? exifrModule.sidecar;

const asTree = (v: unknown): Tree => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Tree) : {});
const list = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

/** A text value: plain, or a language alternative ({ lang, value }, or several). */
function text(v: unknown): string | null {
  for (const item of list(v)) {
    const s = typeof item === 'string' ? item : typeof item === 'number' ? String(item) : typeof asTree(item)['value'] === 'string' ? asTree(item)['value'] as string : null;
    if (s && s.trim()) return s.trim();
  }
  return null;
}

const strings = (v: unknown): string[] => list(v).map(text).filter((s): s is string => s !== null);

const fraction = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};

/** A box clipped to the picture; null when nothing of it is inside or it is not a box. */
function clipped(x: number, y: number, w: number, h: number): Box | null {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(1, x + w);
  const y1 = Math.min(1, y + h);
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : null;
}

/** MWG's stArea: the box's centre and size, as fractions (unit "normalized", the only one MWG defines). */
function mwgBox(area: Tree): Box | null {
  const cx = fraction(area['x']);
  const cy = fraction(area['y']);
  const w = fraction(area['w']);
  const h = fraction(area['h']);
  if (cx === null || cy === null || w === null || h === null) return null;
  if (typeof area['unit'] === 'string' && area['unit'] !== 'normalized') return null;
  return clipped(cx - w / 2, cy - h / 2, w, h);
}

/** Microsoft's MPReg:Rectangle: "left, top, width, height" as fractions. */
function microsoftBox(rect: unknown): Box | null {
  const parts = typeof rect === 'string' ? rect.split(',').map(fraction) : [];
  if (parts.length !== 4 || parts.some((p) => p === null)) return null;
  return clipped(parts[0]!, parts[1]!, parts[2]!, parts[3]!);
}

/**
 * Regions drawn on the photo: MWG (mwg-rs:Regions/RegionList, as Lightroom, digiKam and Picasa
 * write) and Microsoft (MP:RegionInfo/Regions, Windows Photo Gallery). Boxes are taken as
 * fractions of the picture as displayed (the MWG guidelines' reading, and what those apps write).
 */
function regionsOf(t: Tree): PhotoRegion[] {
  const mwg = list(asTree(asTree(t['mwg-rs'])['Regions'])['RegionList']).map((r): PhotoRegion | null => {
    const box = mwgBox(asTree(asTree(r)['Area']));
    const kind = text(asTree(r)['Type']);
    return box ? { name: text(asTree(r)['Name']), kind: kind ? kind.toLowerCase() : null, box } : null;
  });
  const ms = list(asTree(asTree(t['MP'])['RegionInfo'])['Regions']).map((r): PhotoRegion | null => {
    const box = microsoftBox(asTree(r)['Rectangle']);
    return box ? { name: text(asTree(r)['PersonDisplayName']), kind: 'face', box } : null;
  });
  return [...mwg, ...ms].filter((r): r is PhotoRegion => r !== null);
}

/** Names on face regions, boxed or not (a name without a usable box is still a name). */
function regionNames(t: Tree): string[] {
  const mwg = list(asTree(asTree(t['mwg-rs'])['Regions'])['RegionList']).map((r) => text(asTree(r)['Name']));
  const ms = list(asTree(asTree(t['MP'])['RegionInfo'])['Regions']).map((r) => text(asTree(r)['PersonDisplayName']));
  return [...mwg, ...ms].filter((s): s is string => s !== null);
}

function fromTree(t: Tree): Omit<Descriptors, 'problem'> {
  const dc = asTree(t['dc']);
  const xmp = asTree(t['xmp']);
  const iptc = asTree(t['iptc']);
  const hierarchical = [...strings(asTree(t['lr'])['hierarchicalSubject']), ...strings(asTree(t['digiKam'])['TagsList']).map((s) => s.replace(/\//g, '|'))];
  const keywords = new Map<string, string>();
  const add = (k: string): void => {
    const key = k.trim();
    if (key && !keywords.has(key.toLowerCase())) keywords.set(key.toLowerCase(), key);
  };
  [...strings(dc['subject']), ...strings(iptc['Keywords']), ...regionNames(t)].forEach(add);
  for (const h of hierarchical) {
    add(h);
    h.split('|').forEach(add);
  }
  const rating = Number(xmp['Rating']);
  return {
    title: text(dc['title']) ?? text(iptc['ObjectName']) ?? text(iptc['Headline']),
    description: text(dc['description']) ?? text(iptc['Caption']),
    rating: Number.isFinite(rating) && rating >= -1 && rating <= 5 ? Math.round(rating) : null,
    label: text(xmp['Label']),
    keywords: [...keywords.values()],
    regions: regionsOf(t),
  };
}

/** Sidecar wins field by field; keywords are the union. */
function merge(embedded: Omit<Descriptors, 'problem'>, sidecar: Omit<Descriptors, 'problem'> | null, problem: string | null): Descriptors {
  if (!sidecar) return { ...embedded, problem };
  const keywords = new Map([...embedded.keywords, ...sidecar.keywords].map((k) => [k.toLowerCase(), k]));
  return {
    title: sidecar.title ?? embedded.title, description: sidecar.description ?? embedded.description,
    rating: sidecar.rating ?? embedded.rating, label: sidecar.label ?? embedded.label, keywords: [...keywords.values()],
    regions: sidecar.regions.length > 0 ? sidecar.regions : embedded.regions, problem,
  };
}

/** The sidecar paths editors use (`sidecarNames`), with the extension in either case. */
function sidecarCandidates(path: string): string[] {
  const [whole, stem] = sidecarNames(path);
  const [wholeUpper, stemUpper] = sidecarNames(path, '.XMP');
  return [whole, wholeUpper, stem, stemUpper];
}

async function readSidecar(path: string): Promise<{ data: Buffer; path: string } | null> {
  for (const p of sidecarCandidates(path)) {
    try {
      return { data: await readFile(p), path: p };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    }
  }
  return null;
}

/**
 * The descriptors of a photo from its bytes (null: a file whose own metadata is not read, such as a
 * video) and its sidecar, if any. A damaged block or sidecar costs only itself.
 */
export async function readDescriptors(photo: Buffer | null, path: string): Promise<Descriptors> {
  let embedded: Omit<Descriptors, 'problem'> = NO_DESCRIPTORS;
  if (photo) {
    try {
      const t = await exifr.parse(photo, {
        xmp: true, iptc: true, tiff: false, exif: false, gps: false, ifd1: false, icc: false, jfif: false, ihdr: false, mergeOutput: false,
      }) as Tree | undefined;
      embedded = fromTree(asTree(t));
    } catch {
      // No readable XMP or IPTC in the file: nothing was written there.
    }
  }
  let side: { data: Buffer; path: string } | null;
  try {
    side = await readSidecar(path);
  } catch (err) {
    return merge(embedded, null, `its sidecar could not be read: ${errorMessage(err)}`);
  }
  if (!side) return merge(embedded, null, null);
  const xml = side.data.toString('utf8');
  if (!/<x:xmpmeta|<rdf:RDF/.test(xml)) return merge(embedded, null, `its sidecar ${side.path} is not XMP (no xmpmeta or RDF element)`);
  try {
    return merge(embedded, fromTree(asTree(await parseSidecar(side.data))), null);
  } catch (err) {
    return merge(embedded, null, `its sidecar ${side.path} could not be parsed: ${errorMessage(err)}`);
  }
}
