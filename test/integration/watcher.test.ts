import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineEvent } from '../../main/contract/api.js';
import type { LibraryWatcher } from '../../main/ingest/watcher.js';
import { coalesce } from '../../main/ingest/watcher.js';
import { imageBuffer, writeImage } from '../helpers/fixtures.js';
import { addToAlbum, albumPhotoIds, indexPhotos, nextEvent, testLibrary, type TestLibrary } from '../helpers/library.js';

let lib: TestLibrary;
let watcher: LibraryWatcher | null = null;
beforeEach(() => { lib = testLibrary(); });
afterEach(async () => {
  await watcher?.close();
  watcher = null;
  await lib.close();
});

/** Waits (with a deadline) until `cond` holds, checking it after each engine event (the watcher's runs end in one). */
async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  if (!cond()) await nextEvent(lib.engine, () => cond(), ms).catch(() => { throw new Error(`timed out waiting for ${what}`); });
  await watcher?.idle();
}

describe('watching library folders', () => {
  it('follows adds, changes, deletes, renames and moves across folders, keeping identity and albums', async () => {
    const other = join(lib.root, 'other');
    mkdirSync(other, { recursive: true });
    await writeImage(join(lib.photos, 'first.jpg'), { seed: 1 });
    await lib.engine.addFolder(lib.photos);
    await lib.engine.addFolder(other);
    await lib.engine.scan();
    await lib.engine.index();
    const events: EngineEvent[] = [];
    lib.engine.on((e) => events.push(e));
    watcher = await lib.engine.watch({ debounceMs: 150, maxWaitMs: 1000, healthIntervalMs: 200 });
    const ok = (path: string): boolean => lib.row(path)?.state === 'ok';

    await writeImage(join(lib.photos, 'new.jpg'), { seed: 2 });
    await until(() => ok(join(lib.photos, 'new.jpg')), 'an added photo');
    const added = lib.row(join(lib.photos, 'new.jpg'))!;
    const album = addToAlbum(lib.engine, 'Watched', added.id);

    writeFileSync(join(lib.photos, 'new.jpg'), await imageBuffer({ seed: 3, width: 80 }));
    await until(() => lib.row(join(lib.photos, 'new.jpg'))?.width === 80, 'a changed photo');
    expect(lib.row(join(lib.photos, 'new.jpg'))!.id).toBe(added.id);

    renameSync(join(lib.photos, 'new.jpg'), join(lib.photos, 'renamed.jpg'));
    await until(() => ok(join(lib.photos, 'renamed.jpg')), 'a renamed photo');
    expect(lib.row(join(lib.photos, 'renamed.jpg'))!.id).toBe(added.id);
    expect(lib.row(join(lib.photos, 'new.jpg'))).toBeUndefined();

    mkdirSync(join(other, 'nested'));
    renameSync(join(lib.photos, 'renamed.jpg'), join(other, 'nested', 'moved.jpg'));
    await until(() => ok(join(other, 'nested', 'moved.jpg')), 'a photo moved to another folder');
    expect(lib.row(join(other, 'nested', 'moved.jpg'))!.id).toBe(added.id);
    expect(albumPhotoIds(lib.engine, album)).toEqual([added.id]);
    expect(lib.rows().filter((r) => r.state !== 'missing')).toHaveLength(2);

    rmSync(join(lib.photos, 'first.jpg'));
    await until(() => lib.row(join(lib.photos, 'first.jpg'))?.state === 'missing', 'a deleted photo');

    // A whole folder moved in arrives as one folder event.
    mkdirSync(join(lib.root, 'outside'));
    for (let i = 0; i < 5; i++) await writeImage(join(lib.root, 'outside', `o${i}.jpg`), { seed: 100 + i });
    renameSync(join(lib.root, 'outside'), join(lib.photos, 'trip'));
    await until(() => lib.rows().filter((r) => r.path.includes('/trip/') && r.state === 'ok').length === 5, 'a moved-in folder');
    expect(events.some((e) => e.type === 'indexed')).toBe(true);
  });

  it('starts with no folders, then watches (and indexes) a folder added while running and lets go of one removed', async () => {
    watcher = await lib.engine.watch({ debounceMs: 100, maxWaitMs: 500, healthIntervalMs: 60_000 });
    await writeImage(join(lib.photos, 'before.jpg'), { seed: 7 });
    await lib.engine.addFolder(lib.photos);
    // Nobody asked for a scan: the watcher indexes the new folder's photos itself.
    await until(() => lib.row(join(lib.photos, 'before.jpg'))?.state === 'ok', 'a photo already in a folder added while watching');
    await writeImage(join(lib.photos, 'later.jpg'), { seed: 8 });
    await until(() => lib.row(join(lib.photos, 'later.jpg'))?.state === 'ok', 'a photo in a folder added while watching');
    // A folder still watched, to know when the watcher has taken the events that follow.
    const kept = join(lib.root, 'kept');
    mkdirSync(kept);
    await lib.engine.addFolder(kept);
    await lib.engine.removeFolder(lib.photos);
    await writeImage(join(lib.photos, 'after-removal.jpg'), { seed: 9 });
    await writeImage(join(kept, 'sentinel.jpg'), { seed: 10 });
    await until(() => lib.row(join(kept, 'sentinel.jpg'))?.state === 'ok', 'a photo written after the one in the removed folder');
    expect(lib.row(join(lib.photos, 'after-removal.jpg'))).toBeUndefined();
  });

  it('takes a burst of 1,000 copied files in a few batches', async () => {
    mkdirSync(lib.photos, { recursive: true });
    await lib.engine.addFolder(lib.photos);
    const indexed: number[] = [];
    lib.engine.on((e) => { if (e.type === 'indexed') indexed.push(e.summary.processed); });
    watcher = await lib.engine.watch({ debounceMs: 200, maxWaitMs: 2000 });
    const src = join(lib.root, 'src');
    mkdirSync(src);
    for (let i = 0; i < 50; i++) await writeImage(join(src, `s${i}.jpg`), { seed: i, width: 32, height: 24 });
    for (let i = 0; i < 1000; i++) copyFileSync(join(src, `s${i % 50}.jpg`), join(lib.photos, `burst-${i}.jpg`));
    await until(() => lib.rows().filter((r) => r.state === 'ok').length === 1000, '1,000 indexed photos', 60_000);
    expect(indexed.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(indexed.length).toBeLessThan(50); // batched, not one index run per event
    expect(lib.rows()).toHaveLength(1000);
  });

  it('survives its folder being unmounted and mounted again', async () => {
    await writeImage(join(lib.photos, 'kept.jpg'), { seed: 7 });
    await indexPhotos(lib);
    const kept = lib.row(join(lib.photos, 'kept.jpg'))!;
    const states: string[] = [];
    lib.engine.on((e) => { if (e.type === 'folder-state') states.push(e.state); });
    watcher = await lib.engine.watch({ debounceMs: 100, healthIntervalMs: 150 });

    renameSync(lib.photos, lib.photos + '.unmounted');
    await until(() => states.includes('offline'), 'the folder going offline');
    expect(lib.row(join(lib.photos, 'kept.jpg'))!.state).toBe('ok');

    await writeImage(join(lib.photos + '.unmounted', 'while-away.jpg'), { seed: 8 });
    renameSync(lib.photos + '.unmounted', lib.photos);
    await until(() => states.includes('ok') && lib.row(join(lib.photos, 'while-away.jpg'))?.state === 'ok', 'the folder coming back');
    expect(lib.row(join(lib.photos, 'kept.jpg'))).toMatchObject({ id: kept.id, state: 'ok' });

    // And events are followed again after the remount.
    await writeImage(join(lib.photos, 'after.jpg'), { seed: 9 });
    await until(() => lib.row(join(lib.photos, 'after.jpg'))?.state === 'ok', 'a photo added after the remount');
  });
});

describe('coalesce', () => {
  it('drops folders covered by a recursive scan of an ancestor and repeats', () => {
    expect(coalesce([
      { dir: '/p/a', recursive: false },
      { dir: '/p/a', recursive: false },
      { dir: '/p', recursive: true },
      { dir: '/q', recursive: false },
      { dir: '/q/r', recursive: true },
      { dir: '/q/r/s', recursive: false },
      { dir: '/q/rs', recursive: false },
    ])).toEqual([
      { dir: '/p', recursive: true },
      { dir: '/q', recursive: false },
      { dir: '/q/r', recursive: true },
      { dir: '/q/rs', recursive: false },
    ]);
  });
});
