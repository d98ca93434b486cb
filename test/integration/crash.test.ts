import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../../main/db/database.js';
import { RENDITIONS } from '../../main/ingest/thumbnails.js';
import { startCli, runCli } from '../helpers/cli.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';

const PHOTOS = 120;

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name);
}

/** Runs `loupe index` and kills it with SIGKILL once `after` photos are committed (or the time runs out). */
async function killDuring(library: string, afterCommitted: number): Promise<void> {
  const child = startCli(['--library', library, '--json', 'index']);
  const db = join(library, 'loupe.db');
  const deadline = Date.now() + 30_000;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      let done = 0;
      try {
        const conn = openDatabase(db, { readonly: true });
        done = (conn.prepare(`SELECT COUNT(*) AS n FROM photos WHERE state != 'pending'`).get() as { n: number }).n;
        conn.close();
      } catch { /* not created yet */ }
      if (done >= afterCommitted || Date.now() > deadline || child.exitCode !== null) {
        clearInterval(tick);
        child.kill('SIGKILL');
        resolve();
      }
    }, 15);
  });
  await new Promise((r) => child.once('close', r));
}

describe('kill -9 during indexing', () => {
  it('finishes the job on restart with no duplicate rows, no lost rows and no orphaned thumbnails', async () => {
    const t = tempDir();
    try {
      const photos = join(t.dir, 'photos');
      const library = join(t.dir, 'library');
      mkdirSync(library);
      for (let i = 0; i < PHOTOS; i++) await writeImage(join(photos, `d${i % 4}`, `p${i}.jpg`), { width: 1600, height: 1200, seed: i });
      expect((await runCli(['--library', library, 'add-folder', photos])).code).toBe(0);

      // Kill at several points: before the first commit, and at three depths into the work (photos are
      // large enough that commits, every 500 ms, come a few photos at a time). After each,
      // delete the photos that were in flight: thumbnails written for them before the kill are orphans.
      const deleted = new Set<string>();
      for (const after of [0, 10, 40, 70]) {
        await killDuring(library, after);
        const conn = openDatabase(join(library, 'loupe.db'));
        // Still pending but already deleted after an earlier kill: skip those.
        const pending = conn.prepare(`SELECT path FROM photos WHERE state = 'pending' ORDER BY id`).all() as { path: string }[];
        conn.close();
        for (const r of pending.filter((p) => !deleted.has(p.path)).slice(0, 2)) { rmSync(r.path); deleted.add(r.path); }
      }
      const final = await runCli(['--library', library, '--json', 'index']);
      expect(final.code, final.stderr).toBe(0);

      const db = openDatabase(join(library, 'loupe.db'));
      const rows = db.prepare('SELECT path, state, hash FROM photos').all() as { path: string; state: string; hash: string }[];
      expect(rows).toHaveLength(PHOTOS);
      expect(new Set(rows.map((r) => r.path)).size).toBe(PHOTOS);
      expect(deleted.size).toBeGreaterThanOrEqual(4); // the first kill may come before the scan
      expect(rows.filter((r) => r.state === 'missing').map((r) => r.path).sort()).toEqual([...deleted].sort());
      const ok = rows.filter((r) => r.state === 'ok');
      expect(ok).toHaveLength(PHOTOS - deleted.size);
      const hashes = new Set(ok.map((r) => r.hash));
      expect(hashes.size).toBe(PHOTOS - deleted.size);
      const expected = [...hashes].flatMap((h) => RENDITIONS.map((r) => `${h}-${r.size}.jpg`)).sort();
      expect(allFiles(join(library, 'thumbs')).sort()).toEqual(expected);
      const thumbRows = (db.prepare('SELECT COUNT(*) AS n FROM thumbnails').get() as { n: number }).n;
      expect(thumbRows).toBe(expected.length);
      const jobs = db.prepare('SELECT state FROM jobs ORDER BY id').all() as { state: string }[];
      expect(jobs.at(-1)!.state).toBe('done');
      expect(jobs.filter((j) => j.state === 'interrupted').length).toBeGreaterThanOrEqual(3);
      expect(jobs.filter((j) => j.state === 'running')).toHaveLength(0);
      db.close();
    } finally {
      t.cleanup();
    }
  });
});
