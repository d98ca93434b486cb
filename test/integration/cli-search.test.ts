/** `loupe search`, `albums`, `categories`, `duplicates` through the real CLI (child processes). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { writeTinyPacks } from '../helpers/packs.js';

const t = tempDir();
const library = join(t.dir, 'library');
const photos = join(t.dir, 'photos');
const loupe = (...args: string[]): ReturnType<typeof runCli> => runCli(['--library', library, ...args]);

beforeAll(async () => {
  const src = writeTinyPacks(join(t.dir, 'src'));
  for (let i = 0; i < 6; i++) await writeImage(join(photos, `p${i}.jpg`), { width: 160, height: 120, seed: i + 5, exif: { IFD0: { Make: i < 2 ? 'Nikon' : 'Canon' } } });
  copyFileSync(join(photos, 'p0.jpg'), join(photos, 'copy.jpg'));
  for (const [dir, name] of [[src.clip, 'tiny-clip'], [src.cnn, 'tiny-cnn']] as const) {
    expect((await loupe('models', 'import', dir, '--name', name)).code).toBe(0);
  }
  expect((await loupe('add-folder', photos)).code).toBe(0);
  expect((await loupe('index')).code).toBe(0);
}, 120_000);

afterAll(() => t.cleanup());

describe('loupe search', () => {
  it('by sentence, as text and as JSON, with filters', async () => {
    const text = await loupe('search', 'a', 'red', 'car', '--limit', '3');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {3}1\. [-\d.]+ {2}#\d+ {2}\/.*\.jpg/m);
    expect(text.stdout).toMatch(/7 result\(s\) from clip\.tiny-clip/);
    const json = await loupe('--json', 'search', 'red car', '--camera', 'nikon');
    const r = JSON.parse(json.stdout) as { hits: { photo: { cameraMake: string } }[]; total: number };
    expect(r.total).toBe(3);
    expect(r.hits.every((h) => h.photo.cameraMake === 'Nikon')).toBe(true);
  });

  it('by example photo and by region; bad arguments are refused with the reason', async () => {
    const like = JSON.parse((await loupe('--json', 'search', '--like', join(photos, 'p3.jpg'), '--limit', '1')).stdout) as { hits: { photo: { path: string }; score: number }[] };
    expect(like.hits[0]!.photo.path).toBe(join(photos, 'p3.jpg'));
    const region = await loupe('--json', 'search', '--region', '2:0,0,0.5,0.5', '--limit', '2');
    expect(region.code).toBe(0);
    expect((JSON.parse(region.stdout) as { space: string }).space).toBe('cnn.tiny-cnn');
    const bad = await loupe('search', '--region', 'nonsense');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ID:x,y,w,h/);
    const missing = await loupe('search', '--like', '99999');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/photo 99999 is not in the library/);
  });

  it('duplicates lists the copy with its original', async () => {
    const r = await loupe('duplicates');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Group 1/);
    expect(r.stdout).toContain(join(photos, 'copy.jpg'));
  });
});

describe('loupe albums and categories', () => {
  it('an album from creation to export', async () => {
    expect((await loupe('albums', 'create', 'Trip')).stdout).toMatch(/Created album #1 Trip/);
    expect((await loupe('albums', 'add', 'Trip', '3,1')).stdout).toMatch(/Trip: 2 photos/);
    const show = await loupe('albums', 'show', 'trip');
    expect(show.stdout.indexOf('#3')).toBeLessThan(show.stdout.indexOf('#1'));
    const dest = join(t.dir, 'export');
    const ex = await loupe('albums', 'export', '1', dest);
    expect(ex.code).toBe(0);
    expect(readdirSync(dest)).toHaveLength(2);
    expect((await loupe('albums', 'create', 'Nikons', '--query', '{"filters":{"camera":"nikon"}}')).code).toBe(0);
    expect((await loupe('albums', 'list')).stdout).toMatch(/Nikons {2}\(smart, /);
    const bad = await loupe('albums', 'create', 'Bad', '--query', '{"limit":-4}');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid search request: limit/);
    expect((await loupe('albums', 'delete', 'Trip')).code).toBe(0);
    expect(existsSync(join(photos, 'p3.jpg'))).toBe(true);
  });

  it('taxonomies, browsing counts, teaching a category and searching it', async () => {
    expect((await loupe('categories', 'taxonomies')).stdout).toMatch(/birds\s+500 classes\s+Birds \(Birdsnap\)/);
    // JSON lines: progress first, the answer last.
    const lines = (await loupe('--json', 'categories', 'browse', 'pets', '--threshold', '0')).stdout.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'progress', label: 'Preparing pets' });
    const browse = JSON.parse(lines.pop()!) as { count: number }[];
    expect(browse.reduce((a, c) => a + c.count, 0)).toBe(7);
    const teach = await loupe('categories', 'teach', 'Miso', '--add', '1,2');
    expect(teach.code).toBe(0);
    expect(teach.stdout).toMatch(/Miso: 2 examples, 0 counter-examples; trained in \d+ ms/);
    const found = JSON.parse((await loupe('--json', 'search', 'category:Miso')).stdout) as { hits: { photo: { id: number } }[] };
    expect(found.hits.map((h) => h.photo.id)).toEqual(expect.arrayContaining([1, 2]));
    expect((await loupe('categories', 'list')).stdout).toMatch(/Miso {2}\(2 examples/);
  });

  it('marks photos as the same object, lists the groups, unmarks them; bad ids are refused with the reason', async () => {
    const mark = await loupe('same', 'mark', '1,3');
    expect(mark.code).toBe(0);
    expect(mark.stdout).toMatch(/Group \d+: #1 #3\. The next indexing run learns from it/);
    expect((await loupe('same', 'mark', '3,4')).code).toBe(0);
    expect((await loupe('same', 'list')).stdout).toMatch(/^group \d+: #1 #3 #4$/m);
    expect((await loupe('index')).code).toBe(0);
    const one = await loupe('same', 'mark', '2');
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/at least two photos/);
    expect((await loupe('same', 'mark', '2,99999')).stderr).toMatch(/no photo 99999/);
    expect((await loupe('same', 'unmark', '1,3')).stdout).toMatch(/Unmarked 3 photo\(s\)/);
    expect((await loupe('same', 'list')).stdout).toMatch(/No photos marked as the same object yet/);
  });
});
