/**
 * Loupe indexes the folders the user added and nothing else: links to a folder that holds the
 * added one, to Loupe's own library folder, to the kernel's file systems or into another added
 * folder are not followed; Loupe's folder and /proc are refused outright, and a folder holding
 * the operating system is added only when the user confirms.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FolderError } from '../../main/ingest/folders.js';
import { writeImage } from '../helpers/fixtures.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';

let lib: TestLibrary;
let other: string;

beforeAll(async () => {
  lib = testLibrary();
  other = join(lib.root, 'other');
  await writeImage(join(lib.photos, 'own.jpg'), { seed: 1 });
  await writeImage(join(other, 'o1.jpg'), { seed: 2 });
  await writeImage(join(other, 'o2.jpg'), { seed: 3 });
  mkdirSync(join(lib.photos, 'links'), { recursive: true });
  // The temp folder holds the photos, the other folder and Loupe's library (with its thumbnails).
  symlinkSync(lib.root, join(lib.photos, 'links', 'to-ancestor'));
  symlinkSync(lib.engine.libraryDir, join(lib.photos, 'links', 'to-library'));
  symlinkSync(other, join(lib.photos, 'links', 'to-other'));
  symlinkSync('/proc', join(lib.photos, 'links', 'to-proc'));
  symlinkSync('/', join(lib.photos, 'links', 'to-root'));
  await lib.engine.addFolder(lib.photos);
  await lib.engine.addFolder(other);
});

afterAll(async () => {
  await lib.close();
});

describe('walking stays inside what was added', () => {
  it('indexes each photo once, under its own folder, and nothing of Loupe\'s or the system\'s', async () => {
    // Twice: the first run writes thumbnails into the library folder, which a second must not pick up.
    for (let run = 0; run < 2; run++) {
      await lib.engine.scan();
      await lib.engine.index();
    }
    const paths = lib.rows().map((r) => r.path).sort();
    expect(paths).toEqual([join(lib.photos, 'own.jpg'), join(other, 'o1.jpg'), join(other, 'o2.jpg')].sort());
  });

  it('refuses Loupe\'s own folder and the kernel\'s file systems, and asks before a system root', async () => {
    await expect(lib.engine.addFolder(lib.engine.libraryDir)).rejects.toThrow(/Loupe's own library folder/);
    await expect(lib.engine.addFolder(join(lib.engine.libraryDir, 'thumbs'))).rejects.toThrow(FolderError);
    await expect(lib.engine.addFolder('/proc')).rejects.toThrow(/operating system's, not of files/);
    await expect(lib.engine.addFolder('/')).rejects.toThrow(/holds the operating system.*--yes/);
    expect((await lib.engine.listFolders()).map((f) => f.path)).not.toContain('/');
    // With the user's yes it is added (and absorbs the others); taken out again here, unscanned.
    const root = await lib.engine.addFolder('/', { confirm: true });
    expect(root.path).toBe('/');
    await lib.engine.removeFolder('/');
  });
});
