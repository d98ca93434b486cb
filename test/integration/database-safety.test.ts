/**
 * The user's irreplaceable data: a damaged database is noticed at open (which file, what to do),
 * indexing refuses to write into it, and a copy — made by hand, daily, or before a migration —
 * puts albums and everything else back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeSync, existsSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { main } from '../../main/cli/loupe.js';
import { openDatabase } from '../../main/db/database.js';
import { LATEST_VERSION } from '../../main/db/migrations.js';
import { DatabaseDamagedError } from '../../main/db/safety.js';
import { Engine } from '../../main/engine/engine.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';

let t: ReturnType<typeof tempDir>;
let library: string;
let photos: string;
beforeEach(() => {
  t = tempDir();
  library = join(t.dir, 'library');
  photos = join(t.dir, 'photos');
});
afterEach(() => t.cleanup());

async function cli(...args: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await main(['node', 'loupe', '--library', library, ...args], { out: (s) => lines.push(s), err: (s) => lines.push(s), isTTY: false });
  return { code, text: lines.join('\n') };
}

/** A library with photos, an album of three of them, and enough rows to span many pages. */
async function filledLibrary(): Promise<number> {
  for (let i = 0; i < 6; i++) await writeImage(join(photos, `p${i}.jpg`), { width: 200, height: 150, seed: i + 1 });
  const e = Engine.open({ libraryDir: library });
  try {
    await e.addFolder(photos);
    await e.scan();
    await e.index();
    const ids = (await e.search({ limit: 10 })).hits.map((h) => h.photo.id).slice(0, 3);
    const album = await e.createAlbum('Summer');
    await e.addToAlbum(album.id, ids);
    const db = e.internals.db;
    const tag = db.prepare('INSERT INTO tags (photo_id, name, added_at) VALUES (?, ?, ?)');
    db.transaction(() => { for (let i = 0; i < 4000; i++) tag.run(ids[i % 3], `tag-${i}-${'x'.repeat(40)}`, i); })();
    return album.id;
  } finally {
    await e.close();
  }
}

/** Overwrites one 4 KB page in the middle of the file, as a failing disk would. */
function damagePage(file: string): number {
  const pages = Math.floor(statSync(file).size / 4096);
  const page = Math.floor(pages * 0.6);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, page * 4096);
  closeSync(fd);
  return page;
}

describe('a damaged database', () => {
  it('is noticed at open with the file and what to do; indexing refuses; a copy restores everything', async () => {
    const albumId = await filledLibrary();
    const copy = await cli('backup');
    expect(copy.code).toBe(0);
    const copyPath = /Copied the library database to (.+)\.$/.exec(copy.text)![1]!;
    expect(existsSync(copyPath)).toBe(true);
    damagePage(join(library, 'loupe.db'));

    const e = Engine.open({ libraryDir: library });
    try {
      const health = await e.checkDatabase();
      expect(health.integrity).toBe('damaged');
      expect(health.problems.length).toBeGreaterThan(0);
      expect(health.advice).toContain(join(library, 'loupe.db'));
      expect(health.advice).toContain('loupe restore');
      await expect(e.index()).rejects.toBeInstanceOf(DatabaseDamagedError);
    } finally {
      await e.close();
    }
    const status = await cli('status');
    expect(status.code).toBe(1);
    expect(status.text).toContain(`the library's database ${join(library, 'loupe.db')} is damaged`);

    const restored = await cli('restore', copyPath);
    expect(restored.code).toBe(0);
    expect(readdirSync(library).some((f) => f.startsWith('loupe.db.replaced-'))).toBe(true);
    const again = Engine.open({ libraryDir: library });
    try {
      expect((await again.checkDatabase()).integrity).toBe('ok');
      expect((await again.albumPhotos(albumId)).total).toBe(3);
      expect((await again.index()).failed).toBe(0);
    } finally {
      await again.close();
    }
  });

  it('refuses to restore a copy that is damaged itself, and keeps the library as it was', async () => {
    await filledLibrary();
    const copy = await cli('backup', join(t.dir, 'copy.db'));
    expect(copy.code).toBe(0);
    damagePage(join(t.dir, 'copy.db'));
    const r = await cli('restore', join(t.dir, 'copy.db'));
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/is damaged too/);
    expect(readdirSync(library).some((f) => f.startsWith('loupe.db.replaced-'))).toBe(false);
  });
});

describe('copies made by themselves', () => {
  it('makes a daily copy of a library with folders, once a day', async () => {
    await filledLibrary();
    const daily = (): string[] => readdirSync(join(library, 'backups')).filter((f) => f.startsWith('loupe-daily-'));
    expect(daily()).toHaveLength(1);
    const e = Engine.open({ libraryDir: library });
    await e.checkDatabase();
    await e.close();
    expect(daily()).toHaveLength(1);
    const c = new Database(join(library, 'backups', daily()[0]!), { readonly: true });
    expect((c.prepare('SELECT count(*) n FROM photos').get() as { n: number }).n).toBeGreaterThanOrEqual(0);
    c.close();
  });

  it('copies the database before a migration changes it', async () => {
    const old = openDatabase(join(t.dir, 'seed.db'), { targetVersion: LATEST_VERSION - 1 });
    old.close();
    const { mkdirSync, renameSync } = await import('node:fs');
    mkdirSync(library, { recursive: true });
    renameSync(join(t.dir, 'seed.db'), join(library, 'loupe.db'));
    const e = Engine.open({ libraryDir: library });
    await e.close();
    const pre = readdirSync(join(library, 'backups')).filter((f) => f.startsWith('loupe-pre-migration-'));
    expect(pre).toHaveLength(1);
    const c = new Database(join(library, 'backups', pre[0]!), { readonly: true });
    expect(c.pragma('user_version', { simple: true })).toBe(LATEST_VERSION - 1);
    c.close();
  });
});
