/**
 * Oxford5k / Paris6k and their revisited versions (ROxford5k / RParis6k).
 *
 * Classic: a ground-truth folder of NAME_query.txt ("[oxc1_]picture x1 y1 x2 y2") with
 * NAME_good.txt, NAME_ok.txt and NAME_junk.txt listing pictures; relevant = good ∪ ok, junk
 * ignored (compute_ap.cpp). Every picture of the folder is in the database.
 *
 * Revisited: gnd_*.pkl (revisitop) with imlist (the database), qimlist (queries, not in the
 * database) and per query easy / hard / junk indices into imlist and a query box. Easy counts
 * easy as relevant and ignores hard and junk; Medium counts easy and hard and ignores junk; Hard
 * counts hard and ignores easy and junk (Radenović et al. 2018). mP@1/5/10 reported too.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { numbers, PyDict, strings, unpickle, type PyValue } from '../pickle.js';
import { byStem, findFiles, listImages } from './files.js';
import { DatasetError, type ImageQuery, type PixelBox, type RankingDataset } from './types.js';

function readList(path: string): string[] {
  return readFileSync(path, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

/** Ground-truth names may carry an extension or Oxford's "oxc1_" query prefix. */
function stemOf(name: string): string {
  return name.replace(/\.(jpe?g|png)$/i, '').replace(/^oxc1_/, '');
}

export function loadOxford(dir: string, gtDir?: string): RankingDataset {
  const queryFiles = findFiles(gtDir ?? dir, (n) => n.endsWith('_query.txt'));
  if (queryFiles.length === 0) throw new DatasetError(`no *_query.txt ground-truth files under ${gtDir ?? dir} (Oxford5k / Paris6k layout; give --gt DIR)`);
  const images = listImages(dir);
  const stems = byStem(images);
  const missing = new Set<string>();
  const keysOf = (names: string[]): Set<string> => {
    const out = new Set<string>();
    for (const n of names) {
      const k = stems.get(stemOf(n));
      if (k) out.add(k);
      else missing.add(stemOf(n));
    }
    return out;
  };
  const queries: ImageQuery[] = queryFiles.map((qf) => {
    const name = basename(qf).replace(/_query\.txt$/, '');
    const [picture, ...coords] = readList(qf)[0]?.split(/\s+/) ?? [];
    const box = coords.map(Number);
    if (!picture || box.length !== 4 || box.some((v) => !Number.isFinite(v))) throw new DatasetError(`${qf}: expected "picture x1 y1 x2 y2"`);
    const image = stems.get(stemOf(picture));
    if (!image) throw new DatasetError(`${qf}: query picture ${picture} is not in ${dir}`);
    const sibling = (kind: string): string[] => readList(qf.replace(/_query\.txt$/, `_${kind}.txt`));
    const positives = keysOf([...sibling('good'), ...sibling('ok')]);
    return { name, image, box: box as unknown as PixelBox, judgements: { '': { positives, junk: keysOf(sibling('junk')) } } };
  });
  return {
    kind: 'ranking', title: `Oxford/Paris layout: ${images.length} pictures, ${queries.length} queries`,
    images, missing: [...missing], queries, protocols: [''], excludeQuery: false, precisionAt: [],
  };
}

function field(d: PyValue | undefined, key: string): PyValue {
  if (!(d instanceof PyDict)) throw new DatasetError('the ground truth is not a dict');
  const v = d.get(key);
  if (v === undefined) throw new DatasetError(`the ground truth has no "${key}"`);
  return v;
}

export function loadRevisited(dir: string, gtFile?: string): RankingDataset {
  const file = gtFile ?? findFiles(dir, (n) => /^gnd_.*\.pkl$/.test(n))[0];
  if (!file) throw new DatasetError(`no gnd_*.pkl ground truth under ${dir} (revisited Oxford/Paris; give --gt FILE)`);
  const root = unpickle(readFileSync(file));
  const imlist = strings(field(root, 'imlist'));
  const qimlist = strings(field(root, 'qimlist'));
  const gnd = field(root, 'gnd');
  if (!imlist || !qimlist || !Array.isArray(gnd) || gnd.length !== qimlist.length) throw new DatasetError(`${file}: imlist, qimlist and gnd do not fit together`);
  const stems = byStem(listImages(dir));
  const missing: string[] = [];
  const keyOf = (stem: string): string => {
    const k = stems.get(stem);
    if (!k) missing.push(stem);
    return k ?? join('(missing)', stem);
  };
  const images = imlist.map(keyOf);
  const pick = (indices: number[] | null, what: string): Set<string> => {
    if (!indices) throw new DatasetError(`${file}: "${what}" is not a list of indices`);
    return new Set(indices.map((i) => {
      const k = images[i];
      if (k === undefined) throw new DatasetError(`${file}: index ${i} in "${what}" is outside imlist`);
      return k;
    }));
  };
  const queries: ImageQuery[] = qimlist.map((q, i) => {
    const g = gnd[i];
    const easy = pick(numbers(field(g, 'easy')), 'easy');
    const hard = pick(numbers(field(g, 'hard')), 'hard');
    const junk = pick(numbers(field(g, 'junk')), 'junk');
    const bbx = numbers(field(g, 'bbx'));
    if (!bbx || bbx.length !== 4) throw new DatasetError(`${file}: query ${q} has no 4-number bbx`);
    const union = (...sets: Set<string>[]): Set<string> => new Set(sets.flatMap((s) => [...s]));
    return {
      name: q, image: keyOf(q), box: bbx as unknown as PixelBox,
      judgements: {
        Easy: { positives: easy, junk: union(junk, hard) },
        Medium: { positives: union(easy, hard), junk },
        Hard: { positives: hard, junk: union(junk, easy) },
      },
    };
  });
  const present = images.filter((k) => !k.startsWith('(missing)'));
  return {
    kind: 'ranking', title: `revisited layout (${basename(file)}): ${present.length} database pictures, ${queries.length} queries`,
    images: present, missing, queries: queries.filter((q) => !q.image.startsWith('(missing)')),
    protocols: ['Easy', 'Medium', 'Hard'], excludeQuery: false, precisionAt: [1, 5, 10],
  };
}
