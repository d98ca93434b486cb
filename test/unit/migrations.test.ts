import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, schemaVersion, SchemaTooNewError } from '../../main/db/database.js';
import { LATEST_VERSION, MIGRATIONS } from '../../main/db/migrations.js';
import { BROWSE_ORDER, filterSql } from '../../main/db/repos/library-queries.js';
import { Repos } from '../../main/db/repos/index.js';
import { tempDir } from '../helpers/fixtures.js';

let cleanup = (): void => undefined;
afterEach(() => cleanup());

describe('schema migrations', () => {
  it('are numbered 1..N with no gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
  });

  it.each(Array.from({ length: LATEST_VERSION }, (_, v) => v))('upgrade a real file from version %i to the latest', (from) => {
    const t = tempDir();
    cleanup = t.cleanup;
    const file = join(t.dir, 'loupe.db');
    const old = openDatabase(file, { targetVersion: from });
    expect(schemaVersion(old)).toBe(from);
    if (from >= 1) {
      old.prepare(`INSERT INTO folders (path, added_at) VALUES ('/photos', 1)`).run();
      old.prepare(`INSERT INTO photos (folder_id, path, size, mtime_ms, state, added_at) VALUES (1, '/photos/a.jpg', 10, 1, 'ok', 1)`).run();
    }
    old.close();
    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    if (from >= 1) expect(db.prepare('SELECT path FROM photos').all()).toEqual([{ path: '/photos/a.jpg' }]);
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['folders', 'photos', 'thumbnails', 'albums', 'album_items', 'tags', 'jobs']));
    db.close();
  });

  it('browsing by date, either way and under the usual filter, reads an index in order instead of sorting the library', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const db = openDatabase(join(t.dir, 'loupe.db'));
    db.prepare(`INSERT INTO folders (path, added_at) VALUES ('/photos', 1)`).run();
    const ins = db.prepare(`INSERT INTO photos (folder_id, path, size, mtime_ms, hash, taken_at_ms, state, added_at) VALUES (1, ?, 10, 1, ?, ?, 'ok', 1)`);
    for (let i = 0; i < 50; i++) ins.run(`/photos/${i}.jpg`, `h${i}`, i % 7 === 0 ? null : 1000 * ((i * 13) % 50));
    db.exec('ANALYZE');
    const { where, params } = filterSql({});
    for (const [sort, order] of Object.entries(BROWSE_ORDER)) {
      const sql = `SELECT p.id, p.taken_at_ms FROM photos p WHERE ${where} ORDER BY ${order} LIMIT 10 OFFSET 5`;
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
      expect(plan, sort).toContain(`USING INDEX photos_${sort}`);
      expect(plan, sort).not.toContain('TEMP B-TREE');
      // And the order is the one asked for: dated photos by date (ties by id), undated last.
      const all = db.prepare(`SELECT p.id, p.taken_at_ms AS t FROM photos p WHERE ${where} ORDER BY ${order}`).all(...params) as { id: number; t: number | null }[];
      const dir = sort === 'newest' ? -1 : 1;
      const expected = [...all].sort((a, b) => (a.t === null) !== (b.t === null) ? (a.t === null ? 1 : -1) : dir * (((a.t ?? 0) - (b.t ?? 0)) || (a.id - b.id)));
      expect(all).toEqual(expected);
      expect(all.at(-1)!.t).toBeNull();
    }
    db.close();
  });

  it('refuses a library written by a newer Loupe instead of damaging it', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const file = join(t.dir, 'loupe.db');
    const db = openDatabase(file);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    expect(() => openDatabase(file)).toThrow(SchemaTooNewError);
  });

  it('cascades album entries and tags when a photo row is deleted, but not the album', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const db = openDatabase(join(t.dir, 'loupe.db'));
    db.exec(`INSERT INTO folders (id, path, added_at) VALUES (1, '/p', 1);
      INSERT INTO photos (id, folder_id, path, size, mtime_ms, state, added_at) VALUES (7, 1, '/p/a.jpg', 1, 1, 'ok', 1);
      INSERT INTO albums (id, name, created_at, updated_at) VALUES (3, 'Trip', 1, 1);
      INSERT INTO album_items VALUES (3, 7, 1, 1);
      INSERT INTO tags VALUES (7, 'beach', 1);`);
    db.exec('DELETE FROM photos WHERE id = 7');
    expect(db.prepare('SELECT COUNT(*) AS n FROM album_items').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT COUNT(*) AS n FROM tags').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT name FROM albums').all()).toEqual([{ name: 'Trip' }]);
    db.close();
  });

  it('keeps a whitening learned before adaptations existed readable, and a photo\'s same-object mark goes with it', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const file = join(t.dir, 'loupe.db');
    const old = openDatabase(file, { targetVersion: 11 });
    old.exec(`INSERT INTO whitenings (space, raw_space, version, input_dim, output_dim, mean, projection, eigenvalues, pictures, vectors, created_at, shrinkage)
      VALUES ('cnn.a.w1', 'cnn.a', 1, 2, 2, x'0000000000000000', x'0000803f00000000', x'000000000000f03f0000000000000000', 20, 40, 1, 0.5)`);
    old.close();
    const db = openDatabase(file);
    const repos = new Repos(db);
    const w = repos.whitenings.current('cnn.a')!;
    expect(w.whitening.shrinkage).toBe(0.5);
    expect(w.whitening.adaptation).toBeUndefined();
    db.exec(`INSERT INTO folders (id, path, added_at) VALUES (1, '/p', 1);
      INSERT INTO photos (id, folder_id, path, size, mtime_ms, state, added_at) VALUES (7, 1, '/p/a.jpg', 1, 1, 'ok', 1), (8, 1, '/p/b.jpg', 1, 1, 'ok', 1),
        (9, 1, '/p/c.jpg', 1, 1, 'ok', 1);`);
    const before = repos.marks.state();
    expect(repos.marks.mark([7, 8, 9], 5).photoIds).toEqual([7, 8, 9]);
    expect(repos.marks.state()).not.toBe(before);
    db.exec('DELETE FROM photos WHERE id = 7');
    expect(repos.marks.groups().map((g) => g.photoIds)).toEqual([[8, 9]]);
    db.close();
  });
});
