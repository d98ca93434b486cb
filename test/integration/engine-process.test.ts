/**
 * The engine in its own process, as the desktop app runs it (there as Electron's utility process,
 * here a forked Node process running the same entry point): calls are checked in that process,
 * events and pictures come back, closing finishes the library's writes, and a process that dies
 * fails what was waiting on it instead of hanging.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import type { EngineEvent, FolderInfo, IndexingState, LibraryStatus, SearchResponse } from '../../main/contract/api.js';
import { HostError } from '../../main/host/client.js';
import { forkEngine, type EngineProcess } from '../helpers/engine-process.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { writeTinyPacks } from '../helpers/packs.js';

const t = tempDir();

/** A library folder and a folder of six photos of its own, for one test. */
async function freshLibrary(name: string): Promise<{ library: string; photos: string }> {
  const library = join(t.dir, name, 'library');
  const photos = join(t.dir, name, 'photos');
  for (let i = 0; i < 6; i++) await writeImage(join(photos, `p${i}.jpg`), { width: 400, height: 300, seed: i + 40 });
  return { library, photos };
}

const start = (library: string, args: string[] = []): EngineProcess => forkEngine(library, args);

afterAll(() => t.cleanup());

describe('the engine process', () => {
  let packs: { clip: string; cnn: string };

  it('opens the library, checks every call, relays events and pictures, and closes cleanly', async () => {
    packs = writeTinyPacks(join(t.dir, 'packs'), 5);
    const { library, photos } = await freshLibrary('calls');
    const { client, child, exits } = start(library);
    expect(await client.ready).toBe(library);
    const events: EngineEvent[] = [];
    client.onEvent((e) => events.push(e));

    const folder = await client.call('addFolder', [photos]) as FolderInfo;
    expect(folder).toMatchObject({ path: photos, photos: 0 });
    await client.call('scan', []);
    await client.call('index', []);
    expect(events.some((e) => e.type === 'indexed' && e.summary.ok === 6)).toBe(true);
    expect(events.filter((e) => e.type === 'progress').length).toBeGreaterThan(0);
    const status = await client.call('status', [null]) as LibraryStatus;
    expect(status.counts.ok).toBe(6);
    expect(status.indexing).toEqual({ paused: false, running: false } satisfies IndexingState);

    // Refused in the engine's process, before the engine sees them.
    await expect(client.call('search', [{ photo: { path: '/etc/passwd' } }])).rejects.toMatchObject({ kind: 'call' });
    await expect(client.call('importModel', [packs.clip])).rejects.toThrow(/unknown method/);
    await expect(client.call('getPhoto', ['1; DROP TABLE photos'])).rejects.toBeInstanceOf(HostError);
    // The user's mistakes come back as such.
    await expect(client.call('renameAlbum', [999, 'x'])).rejects.toMatchObject({ kind: 'user' });

    const first = (await client.call('search', [{ limit: 10 }]) as SearchResponse).hits[0]!.photo.id;
    const thumb = await client.media(`thumb/${first}/256`);
    expect(thumb.type).toBe('image/jpeg');
    const bytes = thumb.data ?? (thumb.path ? await sharp(thumb.path).toBuffer() : null);
    expect((await sharp(bytes!).metadata()).width).toBe(256);
    await expect(client.media('photo/../../etc/passwd')).rejects.toMatchObject({ status: 400 });
    await expect(client.media('photo/99999')).rejects.toMatchObject({ status: 404 });

    const paused = new Promise<IndexingState>((resolve) => client.onEvent((e) => { if (e.type === 'indexing' && e.state.paused) resolve(e.state); }));
    await client.call('pauseIndexing', []);
    expect((await paused).paused).toBe(true);

    await client.close();
    expect(child.exitCode).toBe(0);
    expect(exits).toEqual([]);
    await expect(client.call('listFolders', [])).rejects.toThrow(/the engine stopped/);
    // Closed cleanly: the database is whole and its write-ahead log checkpointed away.
    const db = new Database(join(library, 'loupe.db'), { readonly: true });
    expect((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check).toBe('ok');
    expect((db.prepare('SELECT count(*) n FROM photos').get() as { n: number }).n).toBe(6);
    db.close();
  });

  it('catches up at start: photos added while it was not running get indexed without being asked', async () => {
    const { library, photos } = await freshLibrary('catch-up');
    const first = start(library, ['--no-watch']);
    await first.client.ready;
    await first.client.call('addFolder', [photos]);
    await first.client.call('scan', []);
    expect(await first.client.call('index', [])).toMatchObject({ ok: 6 });
    await first.client.close();
    await writeImage(join(photos, 'new.jpg'), { width: 420, height: 300, seed: 99 });
    const { client } = start(library);
    await client.ready;
    const indexed = new Promise<void>((resolve) => client.onEvent((e) => { if (e.type === 'indexed' && e.summary.ok > 0) resolve(); }));
    await indexed;
    const status = await client.call('status', []) as LibraryStatus;
    expect(status.counts.ok).toBe(7);
    await client.close();
  });

  it('a process that dies fails the calls waiting on it and reports the exit', async () => {
    const { library } = await freshLibrary('dies');
    const { client, child, exits } = start(library, ['--no-watch']);
    await client.ready;
    const waiting = client.call('index', []);
    child.kill('SIGKILL');
    await expect(waiting).rejects.toThrow(/the engine stopped/);
    expect(exits).toHaveLength(1);
    expect(existsSync(join(library, 'loupe.db'))).toBe(true);
  });
});
