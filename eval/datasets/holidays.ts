/**
 * INRIA Holidays: pictures named NNNNNN.jpg; the number divided by 100 is the scene, and the
 * first picture of each scene (number divisible by 100) is its query. The query is left out of
 * its own ranking and every other picture of the scene is relevant (Jégou et al., holidays_map.py).
 */
import { basename, extname } from 'node:path';
import { listImages } from './files.js';
import { DatasetError, type ImageQuery, type RankingDataset } from './types.js';

const NAME = /^(\d{6})$/;

export function loadHolidays(dir: string): RankingDataset {
  const scenes = new Map<number, { query: string | null; members: string[] }>();
  const images: string[] = [];
  for (const key of listImages(dir)) {
    const m = NAME.exec(basename(key, extname(key)));
    if (!m) continue;
    const n = Number(m[1]);
    const scene = Math.floor(n / 100);
    let s = scenes.get(scene);
    if (!s) scenes.set(scene, (s = { query: null, members: [] }));
    if (n % 100 === 0) s.query = key;
    s.members.push(key);
    images.push(key);
  }
  const queries: ImageQuery[] = [];
  for (const [scene, s] of [...scenes].sort((a, b) => a[0] - b[0])) {
    if (!s.query) continue;
    const positives = new Set(s.members.filter((k) => k !== s.query));
    queries.push({ name: String(scene * 100), image: s.query, box: null, judgements: { '': { positives, junk: new Set() } } });
  }
  if (queries.length === 0) throw new DatasetError(`${dir} has no Holidays-style pictures (NNNNNN.jpg, a query every 100)`);
  return {
    kind: 'ranking', title: `INRIA Holidays layout: ${images.length} pictures, ${queries.length} queries`,
    images, missing: [], queries, protocols: [''], excludeQuery: true, precisionAt: [],
  };
}
