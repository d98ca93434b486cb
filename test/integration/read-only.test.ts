/**
 * A library on a disk that cannot be written (a real read-only mount): it opens read-only and
 * says so; browsing and sentence search work; every change is refused with the library's path;
 * a new library there is refused naming the place. Needs root to mount (CI and these machines
 * run as root); elsewhere the test says why it did not run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadOnlyLibraryError, StorageError } from '../../main/contract/errors.js';
import { Engine } from '../../main/engine/engine.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { writeTinyPacks } from '../helpers/packs.js';

const src = tempDir();
const mount = mkdtempSync(join(tmpdir(), 'loupe-ro-'));
let mounted = false;
let why = '';

beforeAll(async () => {
  const photos = join(src.dir, 'photos');
  for (let i = 0; i < 5; i++) await writeImage(join(photos, `p${i}.jpg`), { width: 320, height: 240, seed: i + 1 });
  const packs = writeTinyPacks(join(src.dir, 'packs'), 2);
  const made = join(src.dir, 'library');
  const e = Engine.open({ libraryDir: made });
  await e.importModel(packs.clip, { name: 'clip-a' });
  await e.addFolder(photos);
  await e.scan();
  await e.index();
  await e.close();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mount], { stdio: 'pipe' });
    cpSync(made, join(mount, 'library'), { recursive: true });
    execFileSync('mount', ['-o', 'remount,ro', mount], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    why = String((err as { stderr?: Buffer }).stderr ?? err);
  }
}, 120_000);

afterAll(() => {
  if (mounted) execFileSync('umount', [mount]);
  rmSync(mount, { recursive: true, force: true });
  src.cleanup();
});

describe('a library on a read-only disk', () => {
  it('opens read-only and says so; browsing and sentence search work; changes are refused with its path', async (ctx) => {
    if (!mounted) ctx.skip(`cannot mount a read-only file system here: ${why}`);
    const dir = join(mount, 'library');
    const copies = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('loupe-read-only-'));
    const before = copies();
    const e = Engine.open({ libraryDir: dir });
    // Read from a copy in the temporary folder (SQLite's WAL needs to write beside the file)…
    expect(copies().length).toBe(before.length + 1);
    try {
      const status = await e.status();
      expect(status.readOnly).toContain(dir);
      expect(status.counts.ok).toBe(5);
      expect((await e.checkDatabase()).integrity).toBe('ok');
      expect((await e.search({ limit: 10 })).total).toBe(5);
      const found = await e.search({ text: 'a photo of a dog', limit: 10 });
      expect(found.hits.length).toBe(5);
      for (const change of [() => e.addFolder(src.dir), () => e.index(), () => e.createAlbum('x'), () => e.backup(), () => e.removeFolder(join(src.dir, 'photos'))]) {
        const err = await change().catch((x: unknown) => x);
        expect(err).toBeInstanceOf(ReadOnlyLibraryError);
        expect((err as Error).message).toContain(dir);
      }
      // A copy to a writable place can still be made.
      const copy = await e.backup(join(src.dir, 'copy.db'));
      expect(copy).toBe(join(src.dir, 'copy.db'));
    } finally {
      await e.close();
    }
    // …which goes when the library closes.
    expect(copies()).toEqual(before);
  });

  it('refuses to make a new library there, naming the place', async (ctx) => {
    if (!mounted) ctx.skip(`cannot mount a read-only file system here: ${why}`);
    const dir = join(mount, 'new-library');
    const err = (() => {
      try {
        Engine.open({ libraryDir: dir });
        return null;
      } catch (x) {
        return x;
      }
    })();
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toMatch(/read-only/);
  });
});
