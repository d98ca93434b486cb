/**
 * Captioned pictures: Flickr8k / Flickr30k token files ("name.jpg#0<TAB>caption"), their CSV
 * versions ("image,caption" or "image_name| comment_number| comment"), Karpathy's split files
 * (dataset_flickr8k.json, dataset_coco.json: a split chosen with --split, default test) and COCO
 * caption annotations (captions_val2014.json).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { byName, findFiles, listImages } from './files.js';
import { DatasetError, type CaptionDataset } from './types.js';

type Pair = { name: string; text: string };

const Karpathy = z.object({
  images: z.array(z.object({ filename: z.string(), split: z.string().optional(), sentences: z.array(z.object({ raw: z.string() })) })),
});
const Coco = z.object({
  images: z.array(z.object({ id: z.number(), file_name: z.string() })),
  annotations: z.array(z.object({ image_id: z.number(), caption: z.string() })),
});

const CAPTION_FILE = /(\.token(\.txt)?|^captions\.txt|^results\.csv|^dataset_.*\.json|^captions_.*\.json)$/;

function fromText(text: string): Pair[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const pairs: Pair[] = [];
  for (const [i, l] of lines.entries()) {
    if (l.includes('\t')) {
      const [name, caption] = [l.slice(0, l.indexOf('\t')), l.slice(l.indexOf('\t') + 1)];
      pairs.push({ name: name.replace(/#\d+$/, ''), text: caption.trim() });
    } else if (l.includes('|')) {
      // "image_name| comment_number| comment": the caption is all after the second bar (it may hold bars).
      const cells = l.split('|');
      if (i === 0 && /^image/i.test(cells[0]!.trim())) continue;
      const skip = cells.length >= 3 ? 2 : 1;
      pairs.push({ name: cells[0]!.trim(), text: cells.slice(skip).join('|').trim() });
    } else if (l.includes(',')) {
      if (i === 0 && /^image/i.test(l)) continue;
      pairs.push({ name: l.slice(0, l.indexOf(',')).trim(), text: l.slice(l.indexOf(',') + 1).trim().replace(/^"(.*)"$/, '$1') });
    }
  }
  return pairs;
}

function fromJson(file: string, split: string | undefined): { pairs: Pair[]; note: string } {
  const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const k = Karpathy.safeParse(json);
  if (k.success) {
    const want = split ?? (k.data.images.some((im) => im.split === 'test') ? 'test' : undefined);
    const images = k.data.images.filter((im) => want === undefined || im.split === want);
    return { pairs: images.flatMap((im) => im.sentences.map((s) => ({ name: im.filename, text: s.raw.trim() }))), note: want ? `split ${want}` : 'all splits' };
  }
  const c = Coco.safeParse(json);
  if (c.success) {
    const names = new Map(c.data.images.map((im) => [im.id, im.file_name]));
    return { pairs: c.data.annotations.flatMap((a) => (names.has(a.image_id) ? [{ name: names.get(a.image_id)!, text: a.caption.trim() }] : [])), note: 'COCO annotations' };
  }
  throw new DatasetError(`${file} is neither a Karpathy split file nor COCO caption annotations`);
}

export function loadCaptions(dir: string, opts: { captions?: string; split?: string } = {}): CaptionDataset {
  const file = opts.captions ?? findFiles(dir, (n) => CAPTION_FILE.test(n))[0];
  if (!file) throw new DatasetError(`no caption file under ${dir} (Flickr *.token.txt, captions.txt, results.csv, dataset_*.json, captions_*.json; give --captions FILE)`);
  const { pairs, note } = file.endsWith('.json') ? fromJson(file, opts.split) : { pairs: fromText(readFileSync(file, 'utf8')), note: 'all captions' };
  const names = byName(listImages(dir));
  const missing = new Set<string>();
  const captions = pairs.flatMap((p) => {
    const image = names.get(basename(p.name));
    if (!image) missing.add(p.name);
    return image && p.text ? [{ image, text: p.text }] : [];
  });
  const images = [...new Set(captions.map((c) => c.image))];
  if (images.length === 0) throw new DatasetError(`${file}: none of its pictures is in ${dir}`);
  return { kind: 'captions', title: `captions (${basename(file)}, ${note}): ${images.length} pictures, ${captions.length} captions`, images, missing: [...missing], captions };
}
