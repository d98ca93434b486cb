import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCaptions } from '../../eval/datasets/captions.js';
import { className, loadClasses } from '../../eval/datasets/classes.js';
import { loadHolidays } from '../../eval/datasets/holidays.js';
import { loadDataset } from '../../eval/datasets/index.js';
import { loadOxford } from '../../eval/datasets/oxford.js';
import { DatasetError } from '../../eval/datasets/types.js';
import { loadUkbench } from '../../eval/datasets/ukbench.js';
import { tempDir } from '../helpers/fixtures.js';

// Layout parsers read names and ground-truth files only; the pictures' bytes do not matter here.
let cleanups: (() => void)[] = [];
function folder(files: Record<string, string>): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

describe('dataset layouts', () => {
  it('Holidays: scenes by number / 100, the first of each the query, left out of its positives', () => {
    const d = loadHolidays(folder({ 'jpg/100000.jpg': '', 'jpg/100001.jpg': '', 'jpg/100002.jpg': '', 'jpg/100100.jpg': '', 'jpg/100101.jpg': '', 'jpg/notes.jpg': '' }));
    expect(d.queries.map((q) => [q.image, [...q.judgements['']!.positives]])).toEqual([
      ['jpg/100000.jpg', ['jpg/100001.jpg', 'jpg/100002.jpg']],
      ['jpg/100100.jpg', ['jpg/100101.jpg']],
    ]);
    expect(d.images).toHaveLength(5);
    expect(d.excludeQuery).toBe(true);
  });

  it('UKBench: groups of four consecutive numbers', () => {
    const d = loadUkbench(folder({ 'ukbench00000.jpg': '', 'ukbench00003.jpg': '', 'ukbench00004.jpg': '' }));
    expect([...d.groupOf]).toEqual([['ukbench00000.jpg', '0'], ['ukbench00003.jpg', '0'], ['ukbench00004.jpg', '1']]);
  });

  it('Oxford: oxc1_ prefix, good ∪ ok positive, junk apart, names missing from the folder reported', () => {
    const dir = folder({
      'a_000001.jpg': '', 'a_000002.jpg': '', 'a_000003.jpg': '', 'b_000001.jpg': '',
      'gt/a_1_query.txt': 'oxc1_a_000001 10.5 20 110 220.5\n', 'gt/a_1_good.txt': 'a_000001\na_000002\n',
      'gt/a_1_ok.txt': 'a_000003\n', 'gt/a_1_junk.txt': 'b_000001\na_000009\n',
    });
    const d = loadOxford(dir);
    expect(d.queries).toHaveLength(1);
    const q = d.queries[0]!;
    expect(q).toMatchObject({ name: 'a_1', image: 'a_000001.jpg', box: [10.5, 20, 110, 220.5] });
    expect([...q.judgements['']!.positives].sort()).toEqual(['a_000001.jpg', 'a_000002.jpg', 'a_000003.jpg']);
    expect([...q.judgements['']!.junk]).toEqual(['b_000001.jpg']);
    expect(d.missing).toEqual(['a_000009']);
    expect(d.images).toHaveLength(4);
  });

  it('captions: Flickr token files, "|" and "," CSVs, Karpathy splits and COCO annotations', () => {
    const images = { 'Images/1.jpg': '', 'Images/2.jpg': '' };
    const token = loadCaptions(folder({ ...images, 'Flickr8k.token.txt': '1.jpg#0\tA dog runs.\n1.jpg#1\tA brown dog.\n2.jpg#0\tTwo kids, a sandcastle.\n3.jpg#0\tNot here.\n' }));
    expect(token.captions).toEqual([
      { image: 'Images/1.jpg', text: 'A dog runs.' }, { image: 'Images/1.jpg', text: 'A brown dog.' }, { image: 'Images/2.jpg', text: 'Two kids, a sandcastle.' },
    ]);
    expect(token.missing).toEqual(['3.jpg']);
    const pipes = loadCaptions(folder({ ...images, 'results.csv': 'image_name| comment_number| comment\n1.jpg| 0| A dog | running\n' }));
    expect(pipes.captions).toEqual([{ image: 'Images/1.jpg', text: 'A dog | running' }]);
    const commas = loadCaptions(folder({ ...images, 'captions.txt': 'image,caption\n2.jpg,"Kids, sand and sun"\n' }));
    expect(commas.captions).toEqual([{ image: 'Images/2.jpg', text: 'Kids, sand and sun' }]);
    const karpathy = JSON.stringify({ images: [
      { filename: '1.jpg', split: 'train', sentences: [{ raw: 'train caption' }] },
      { filename: '2.jpg', split: 'test', sentences: [{ raw: 'test caption ' }, { raw: 'another' }] },
    ] });
    expect(loadCaptions(folder({ ...images, 'dataset_flickr8k.json': karpathy })).captions.map((c) => c.text)).toEqual(['test caption', 'another']);
    expect(loadCaptions(folder({ ...images, 'dataset_flickr8k.json': karpathy }), { split: 'train' }).captions.map((c) => c.text)).toEqual(['train caption']);
    const coco = JSON.stringify({ images: [{ id: 7, file_name: '2.jpg' }], annotations: [{ image_id: 7, caption: 'A beach.' }, { image_id: 8, caption: 'lost' }] });
    expect(loadCaptions(folder({ ...images, 'annotations/captions_val2014.json': coco })).captions).toEqual([{ image: 'Images/2.jpg', text: 'A beach.' }]);
    expect(() => loadCaptions(folder(images))).toThrow(DatasetError);
  });

  it('class folders: names cleaned, pictures labelled by folder, at least two classes', () => {
    expect(className('001.Black_footed_Albatross')).toBe('Black footed Albatross');
    expect(className('english_setter')).toBe('english setter');
    const d = loadClasses(folder({ '001.Red_Fox/a.jpg': '', '001.Red_Fox/b.png': '', '002.Grey_Wolf/c.jpg': '', 'empty/readme.txt': '' }));
    expect(d.classes).toEqual(['Red Fox', 'Grey Wolf']);
    expect([...d.labelOf]).toEqual([['001.Red_Fox/a.jpg', 0], ['001.Red_Fox/b.png', 0], ['002.Grey_Wolf/c.jpg', 1]]);
    expect(() => loadClasses(folder({ 'only/a.jpg': '' }))).toThrow(/at least two class folders/);
  });

  it('refuses an unknown layout and a folder without its files', () => {
    expect(() => loadDataset('imagenet-21k', '/')).toThrow(/unknown dataset kind/);
    expect(() => loadDataset('oxford', folder({ 'a.jpg': '' }))).toThrow(/no \*_query\.txt/);
    expect(() => loadDataset('roxford', folder({ 'a.jpg': '' }))).toThrow(/no gnd_\*\.pkl/);
  });
});
