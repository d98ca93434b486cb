import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LibraryStatus } from '../../main/contract/api.js';
import { imageBuffer, pngClaiming, tempDir, writeImage } from '../helpers/fixtures.js';
import { runCli } from '../helpers/cli.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';

let lib: TestLibrary;
beforeEach(() => { lib = testLibrary(); });
afterEach(() => lib.close());

describe('bad input is recorded with a reason and never stops indexing', () => {
  it('handles empty, truncated, fake, bomb, looping, dangling, long-named and non-UTF-8 files in one run', async () => {
    const p = lib.photos;
    mkdirSync(p, { recursive: true });
    await writeImage(join(p, 'good-1.jpg'), { seed: 1 });
    writeFileSync(join(p, 'empty.jpg'), Buffer.alloc(0));
    const jpeg = await imageBuffer({ width: 640, height: 480, seed: 2 });
    writeFileSync(join(p, 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
    writeFileSync(join(p, 'random.jpg'), Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 2654435761) >>> 24)));
    writeFileSync(join(p, 'bomb.png'), await pngClaiming(50_000, 50_000));
    symlinkSync('loop-b.jpg', join(p, 'loop-a.jpg'));
    symlinkSync('loop-a.jpg', join(p, 'loop-b.jpg'));
    symlinkSync('does-not-exist.jpg', join(p, 'dangling.jpg'));
    mkdirSync(join(p, 'sub'));
    symlinkSync('..', join(p, 'sub', 'up')); // a folder link back to an ancestor
    await writeImage(join(p, 'sub', 'good-2.png'), { seed: 3, format: 'png' });
    const longName = 'ü'.repeat(120) + '.jpg'; // 245 bytes, near the 255-byte limit
    await writeImage(join(p, longName), { seed: 4 });
    const deep = join(p, ...Array.from({ length: 12 }, (_, i) => `level-${i}-${'x'.repeat(80)}`));
    await writeImage(join(deep, 'deep.jpg'), { seed: 5 });
    // A name that is not UTF-8 (Latin-1 "café.jpg"): indexed like any other photo.
    const rawName = Buffer.concat([Buffer.from(p + '/caf'), Buffer.from([0xe9]), Buffer.from('.jpg')]);
    writeFileSync(rawName, await imageBuffer({ seed: 6 }));
    await writeImage(join(p, 'vanishes.jpg'), { seed: 7 });

    await lib.engine.addFolder(p);
    const scan = await lib.engine.scan();
    expect(scan.seen).toBe(13);
    unlinkSync(join(p, 'vanishes.jpg')); // deleted between scan and decode
    const index = await lib.engine.index();
    expect(index.failed).toBe(4);
    expect(index.missing).toBe(1);

    const byName = (n: string): { state: string; error: string | null } => {
      const r = lib.rows().find((row) => row.path === join(p, n));
      if (!r) throw new Error(`no row for ${n}`);
      return { state: r.state, error: r.error };
    };
    expect(byName('empty.jpg')).toEqual({ state: 'error', error: 'empty file (0 bytes)' });
    expect(byName('truncated.jpg').error).toMatch(/^the file is truncated or corrupt/);
    expect(byName('random.jpg').error).toMatch(/^not a recognised image/);
    expect(byName('bomb.png').error).toMatch(/too large to decode safely: 50000 × 50000 pixels/);
    expect(byName('loop-a.jpg')).toEqual({ state: 'error', error: 'symbolic link loop: the link never reaches a real file' });
    expect(byName('loop-b.jpg').state).toBe('error');
    expect(byName('dangling.jpg').error).toMatch(/^not found/);
    expect(byName('vanishes.jpg').state).toBe('missing');
    for (const good of ['good-1.jpg', 'sub/good-2.png', longName, 'caf\\xe9.jpg']) expect(byName(good)).toEqual({ state: 'ok', error: null });
    expect(lib.rows().find((r) => r.path.endsWith('/deep.jpg'))!.state).toBe('ok');
    const cafe = lib.rows().find((r) => r.path === join(p, 'caf\\xe9.jpg'))!;
    expect(cafe.path_raw).toEqual(rawName);
    // The folder link to an ancestor was not followed round and round.
    expect(lib.rows().filter((r) => r.path.includes('/up/'))).toHaveLength(0);

    const status = await lib.engine.status();
    expect(status.counts).toEqual({ ok: 5, error: 7, pending: 0, missing: 1 });
    expect(status.errors.map((e) => e.path.slice(p.length + 1))).toEqual(
      ['bomb.png', 'dangling.jpg', 'empty.jpg', 'loop-a.jpg', 'loop-b.jpg', 'random.jpg', 'truncated.jpg']);
    // A re-scan leaves recorded errors alone rather than retrying them every time.
    expect((await lib.engine.scan()).changed).toBe(0);
  });

  it('keeps two files whose names read the same as text apart, by their bytes, and a re-scan finds nothing new', async () => {
    const p = join(lib.root, 'twins');
    mkdirSync(p, { recursive: true });
    // One name holds the byte 0xE9 (Latin-1 "é", not UTF-8), shown as "caf\\xe9.jpg"; the other is literally "caf\\xe9.jpg".
    const rawName = Buffer.concat([Buffer.from(p + '/caf'), Buffer.from([0xe9]), Buffer.from('.jpg')]);
    writeFileSync(rawName, await imageBuffer({ seed: 21 }));
    await writeImage(join(p, 'caf\\xe9.jpg'), { seed: 22 });
    await lib.engine.addFolder(p);
    expect((await lib.engine.scan()).added).toBe(2);
    expect((await lib.engine.index()).ok).toBe(2);
    const rows = lib.rows().filter((r) => r.path.startsWith(p + '/'));
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.path)).toEqual([join(p, 'caf\\xe9.jpg'), join(p, 'caf\\xe9.jpg')]);
    expect(rows.filter((r) => r.path_raw !== null).map((r) => r.path_raw)).toEqual([rawName]);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(2);
    // Every later scan: nothing new, nothing changed (it used to flip between the two forever).
    for (let i = 0; i < 2; i++) expect(await lib.engine.scan()).toMatchObject({ added: 0, changed: 0, missing: 0 });
  });

  it('records unreadable files and folders without taking their photos for deleted (run as an unprivileged user)', async () => {
    // Root reads everything, so under root the CLI runs as "nobody" for permissions to apply.
    const asRoot = process.getuid?.() === 0;
    const t = tempDir();
    try {
      chmodSync(t.dir, 0o777);
      const photos = join(t.dir, 'photos');
      const library = join(t.dir, 'library');
      await writeImage(join(photos, 'readable.jpg'), { seed: 1 });
      await writeImage(join(photos, 'locked.jpg'), { seed: 2 });
      await writeImage(join(photos, 'private', 'inside.jpg'), { seed: 3 });
      mkdirSync(library);
      for (const d of [t.dir, photos, library, join(photos, 'private')]) chmodSync(d, 0o777);
      const spawnOpts = asRoot ? { uid: 65534, gid: 65534 } : {};
      const run = (...args: string[]): ReturnType<typeof runCli> => runCli(['--library', library, '--json', ...args], spawnOpts);

      expect((await run('add-folder', photos)).code).toBe(0);
      expect((await run('index')).code).toBe(0);
      chmodSync(join(photos, 'locked.jpg'), 0o000);
      await writeImage(join(photos, 'later.jpg'), { seed: 4 });
      chmodSync(join(photos, 'later.jpg'), 0o000);
      chmodSync(join(photos, 'private'), 0o000);
      const second = await run('index');
      expect(second.code, second.stderr).toBe(0);
      const scan = JSON.parse(second.stdout.split('\n')[0]!) as { skippedDirs: string[] };
      expect(scan.skippedDirs).toEqual([join(photos, 'private')]);
      const status = JSON.parse((await run('status')).stdout) as LibraryStatus;
      expect(status.errors).toEqual([{ id: expect.any(Number), path: join(photos, 'later.jpg'), error: 'permission denied: Loupe cannot read it' }]);
      // Already indexed and unchanged: locked.jpg stays ok; the unlistable folder's photo is not "missing".
      expect(status.counts).toEqual({ ok: 3, error: 1, pending: 0, missing: 0 });

      chmodSync(join(photos, 'later.jpg'), 0o644); // fixing the permission is picked up (ctime changed)
      await run('index');
      const fixed = JSON.parse((await run('status')).stdout) as LibraryStatus;
      expect(fixed.counts).toMatchObject({ ok: 4, error: 0 });
    } finally {
      chmodSync(join(t.dir, 'photos', 'private'), 0o755);
      t.cleanup();
    }
  });
});
