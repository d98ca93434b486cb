/**
 * When Loupe's own storage fails (its thumbnail folder cannot be written), that is not the
 * photos' fault: the run stops with a clear error naming the place, no photo is marked unreadable,
 * and once the folder works again the next run indexes them all.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/loupe.js';
import { StorageError } from '../../main/contract/errors.js';
import { writeImage } from '../helpers/fixtures.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';

let lib: TestLibrary;
beforeEach(async () => {
  lib = testLibrary();
  for (let i = 0; i < 6; i++) await writeImage(join(lib.photos, `p${i}.jpg`), { width: 320, height: 240, seed: i + 1 });
  await lib.engine.addFolder(lib.photos);
  await lib.engine.scan();
});
afterEach(async () => {
  await lib.close();
});

/** Every shard of the thumbnail folder taken by a plain file: no thumbnail can be written (as root, modes do not stop writes). */
function blockThumbnails(): string[] {
  const dir = lib.engine.internals.thumbs.dir;
  mkdirSync(dir, { recursive: true });
  const blocked = Array.from({ length: 256 }, (_, i) => join(dir, i.toString(16).padStart(2, '0')));
  for (const f of blocked) writeFileSync(f, 'not a folder');
  return blocked;
}

const states = (): Record<string, number> => Object.fromEntries(
  (lib.engine.internals.db.prepare('SELECT state, count(*) n FROM photos GROUP BY state').all() as { state: string; n: number }[]).map((r) => [r.state, r.n]));

describe('a library folder that cannot be written', () => {
  it('stops the run with the place and the reason, records nothing against the photos, and recovers', async () => {
    const blocked = blockThumbnails();
    const err = await lib.engine.index().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toContain(lib.engine.internals.thumbs.dir);
    expect((err as Error).message).toMatch(/cannot write to the library folder/);
    expect(states()).toEqual({ pending: 6 });
    expect((await lib.engine.status()).lastJob).toMatchObject({ state: 'failed' });

    for (const f of blocked) rmSync(f);
    const s = await lib.engine.index();
    expect(s).toMatchObject({ ok: 6, failed: 0 });
    expect(states()).toEqual({ ok: 6 });
    // A library an earlier Loupe left with such failures recorded on photos gets them tried again.
    lib.engine.internals.db.prepare(`UPDATE photos SET state = 'error', error = 'unexpected failure: ENOENT: mkdir' WHERE path LIKE '%p0.jpg'`).run();
    expect(states()).toEqual({ ok: 5, error: 1 });
    expect((await lib.engine.index()).processed).toBe(1);
    expect(states()).toEqual({ ok: 6 });
  });

  it('makes `loupe index` exit non-zero with the reason', async () => {
    blockThumbnails();
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['node', 'loupe', '--library', lib.engine.libraryDir, 'index'], { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false });
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/cannot write to the library folder at .*thumbs/);
    expect(out.join('\n')).not.toMatch(/unreadable, /);
    expect(states()).toEqual({ pending: 6 });
  });
});
