/**
 * Real photos with known text in them, made by sharp: a sign (a string rendered by librsvg in one
 * of the system's fonts, on a plate) pasted into one of ../shared/data/photos' scenes at a given
 * size and angle, sheared a little as a sign seen from the side, then saved as JPEG at a given
 * quality. Without ../shared, a generated scene stands in. Also the page's text, transcribed once
 * by hand, and the measures: character error rate and word recall.
 */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { realOrGenerated } from './shared.js';

export interface Sign {
  readonly text: string;
  /** The text's height in pixels (the font size). */
  readonly size: number;
  /** Degrees, clockwise. */
  readonly angle: number;
  readonly font: string;
  /** A side-on look: the plate's horizontal shear. */
  readonly shear?: number;
  readonly quality?: number;
}

export const FONTS = ['DejaVu Sans', 'DejaVu Serif', 'Liberation Sans', 'DejaVu Sans Mono'];

/** The fonts are installed (Debian's fonts-dejavu-core and fonts-liberation; .ci/run installs them). */
export const HAVE_FONTS = ['dejavu/DejaVuSans.ttf', 'dejavu/DejaVuSerif.ttf', 'dejavu/DejaVuSansMono.ttf', 'liberation/LiberationSans-Regular.ttf']
  .every((f) => existsSync(`/usr/share/fonts/truetype/${f}`));

/** What skimage-page.png says, line by line. */
export const PAGE_TEXT = [
  'Region-based segmentation',
  'Let us first determine markers of the coins and the',
  'background. These markers are pixels that we can label',
  'unambiguously as either object or background. Here,',
  'the markers are found at the two extreme parts of the',
  'histogram of grey values:',
  '>>> markers = np.zeros_like(coins)',
];

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A scene (a path under data/photos) at 1024×683 with the sign in it, as JPEG. */
export async function signPhoto(scene: string, seed: number, sign: Sign): Promise<Buffer> {
  const width = 1024;
  const height = 683;
  const base = await realOrGenerated(scene, seed, width, height);
  const w = Math.ceil(sign.text.length * sign.size * 0.78 + sign.size);
  const h = Math.ceil(sign.size * 1.6);
  const plate = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
    <rect width="${w}" height="${h}" rx="${sign.size / 5}" fill="#f4f1e8"/>
    <text x="${sign.size / 2}" y="${sign.size * 1.15}" font-family="${sign.font}" font-size="${sign.size}" fill="#1b1b1b">${escape(sign.text)}</text>
  </svg>`;
  let layer = sharp(Buffer.from(plate)).png();
  if (sign.shear) layer = sharp(await layer.toBuffer()).affine([[1, sign.shear], [0, 1]], { background: { r: 0, g: 0, b: 0, alpha: 0 } }).png();
  const rotated = await sharp(await layer.toBuffer()).rotate(sign.angle, { background: { r: 0, g: 0, b: 0, alpha: 0 } }).png().toBuffer();
  const meta = await sharp(rotated).metadata();
  const left = Math.max(0, Math.min(width - meta.width!, Math.round((seed * 137) % Math.max(1, width - meta.width!))));
  const top = Math.max(0, Math.min(height - meta.height!, Math.round((seed * 89) % Math.max(1, height - meta.height!))));
  return sharp(base).composite([{ input: rotated, left, top }]).jpeg({ quality: sign.quality ?? 85 }).toBuffer();
}

export function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length]!;
}

/** Character error rate of what was read against the truth (spaces ignored: the recogniser drops some). */
export function cer(read: string, truth: string): number {
  const squash = (s: string): string => s.replace(/\s+/g, '');
  return levenshtein(squash(read), squash(truth)) / Math.max(1, squash(truth).length);
}

/** The share of the truth's words found in what was read (case ignored; glued words count: spaces get dropped). */
export function wordRecall(read: string, truth: string): number {
  const hay = read.toLowerCase().replace(/\s+/g, '');
  const words = truth.toLowerCase().split(/\s+/).filter(Boolean);
  return words.filter((w) => hay.includes(w)).length / Math.max(1, words.length);
}
