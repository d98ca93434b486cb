/**
 * Thumbnail garbage collection and repair: a folder removed while another process indexes
 * never deletes that process's not-yet-committed thumbnails, and a thumbnail whose file went
 * missing is made again by the next index.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RENDITIONS } from '../../main/ingest/thumbnails.js';
import { writeImage } from '../helpers/fixtures.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';

let lib: TestLibrary;
let other: ChildProcess | null = null;

beforeEach(async () => {
  lib = testLibrary();
  for (let i = 0; i < 4; i++) await writeImage(join(lib.photos, `p${i}.jpg`), { width: 320, height: 240, seed: i + 1 });
  await indexPhotos(lib);
});

afterEach(async () => {
  other?.kill('SIGKILL');
  other = null;
  await lib.close();
});

describe('thumbnail garbage collection', () => {
  it('leaves files alone while another live process is indexing the library', async () => {
    // A second Loupe process mid-run: its job row is running, and it has written a file it has not committed yet.
    other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const now = Date.now();
    lib.engine.internals.db.prepare(`INSERT INTO jobs (kind, state, pid, started_at, updated_at) VALUES ('index', 'running', ?, ?, ?)`).run(other.pid, now, now);
    const hash = 'ab'.repeat(32);
    const uncommitted = lib.engine.internals.thumbs.pathFor(hash, 256);
    mkdirSync(dirname(uncommitted), { recursive: true });
    writeFileSync(uncommitted, 'a thumbnail being written');
    const extra = join(lib.root, 'extra');
    await writeImage(join(extra, 'x.jpg'), { seed: 9 });
    await lib.engine.addFolder(extra);
    await lib.engine.removeFolder(extra);
    expect(existsSync(uncommitted)).toBe(true);
    // Once that process is gone, the next run of this one sweeps what it left.
    other.kill('SIGKILL');
    await new Promise((r) => other!.once('exit', r));
    other = null;
    await lib.engine.index();
    expect(existsSync(uncommitted)).toBe(false);
  });

  it('makes again the thumbnails whose files went missing', async () => {
    const row = lib.row(join(lib.photos, 'p2.jpg'))!;
    for (const r of RENDITIONS) rmSync(lib.engine.internals.thumbs.pathFor(row.hash!, r.size));
    const s = await lib.engine.index();
    expect(s.processed).toBe(1);
    for (const r of RENDITIONS) expect(existsSync(lib.engine.internals.thumbs.pathFor(row.hash!, r.size))).toBe(true);
    expect(lib.row(join(lib.photos, 'p2.jpg'))).toMatchObject({ id: row.id, state: 'ok' });
    await expect(lib.engine.media(`thumb/${row.id}/256`)).resolves.toMatchObject({ kind: 'file' });
  });
});
