import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { FolderError } from '../../main/ingest/folders.js';
import { LibraryBusyError } from '../../main/ingest/jobs.js';
import { MODEL_INPUT_SIZE, RENDITIONS } from '../../main/ingest/thumbnails.js';
import { writeImage } from '../helpers/fixtures.js';
import { addToAlbum, albumPhotoIds, testLibrary, type TestLibrary } from '../helpers/library.js';

let lib: TestLibrary;
beforeEach(() => { lib = testLibrary(); });
afterEach(() => lib.close());

async function scanAndIndex(): Promise<{ scan: Awaited<ReturnType<TestLibrary['engine']['scan']>>; index: Awaited<ReturnType<TestLibrary['engine']['index']>> }> {
  const scan = await lib.engine.scan();
  const index = await lib.engine.index();
  return { scan, index };
}

function thumbFiles(): string[] {
  const dir = lib.engine.internals.thumbs.dir;
  return readdirSync(dir).flatMap((sub) => readdirSync(join(dir, sub))).sort();
}

describe('scan and index a real folder', () => {
  it('indexes every format, records metadata and thumbnails, and skips hidden and system folders', async () => {
    const p = lib.photos;
    await writeImage(join(p, 'a.jpg'), { seed: 1, exif: { IFD0: { Make: 'Nikon', Model: 'Z6' }, IFD2: { DateTimeOriginal: '2022:05:06 07:08:09', OffsetTimeOriginal: '-04:00' } } });
    await writeImage(join(p, 'sub/b.PNG'), { seed: 2, format: 'png' });
    await writeImage(join(p, 'sub/deeper/c.webp'), { seed: 3, format: 'webp' });
    await writeImage(join(p, 'd.heic'), { seed: 4, format: 'heif' });
    await writeImage(join(p, 'e.tiff'), { seed: 5, format: 'tiff' });
    await writeImage(join(p, 'f.gif'), { seed: 6, format: 'gif' });
    await writeImage(join(p, '.hidden/g.jpg'), { seed: 7 });
    await writeImage(join(p, '@eaDir/h.jpg'), { seed: 8 });
    await writeImage(join(p, '.i.jpg'), { seed: 9 });
    writeFileSync(join(p, 'notes.txt'), 'not a photo');
    await lib.engine.addFolder(p);
    const { scan, index } = await scanAndIndex();
    expect(scan).toMatchObject({ folders: 1, seen: 6, added: 6 });
    expect(index).toMatchObject({ processed: 6, ok: 6, failed: 0 });
    const rows = lib.rows();
    expect(rows.map((r) => r.path.slice(p.length + 1))).toEqual(['a.jpg', 'd.heic', 'e.tiff', 'f.gif', 'sub/b.PNG', 'sub/deeper/c.webp']);
    expect(rows.every((r) => r.state === 'ok' && r.hash?.length === 64 && r.width === 64 && r.height === 48)).toBe(true);
    expect(rows.map((r) => r.format)).toEqual(['jpeg', 'heif', 'tiff', 'gif', 'png', 'webp']);
    const a = lib.row(join(p, 'a.jpg'))!;
    expect(a).toMatchObject({ camera_make: 'Nikon', camera_model: 'Z6', taken_at: '2022-05-06T07:08:09-04:00', taken_at_source: 'exif' });
    expect(lib.row(join(p, 'sub/b.PNG'))!.taken_at_source).toBe('file');
    expect(thumbFiles()).toHaveLength(6 * RENDITIONS.length);
    for (const r of rows) {
      expect(existsSync(lib.engine.internals.thumbs.pathFor(r.hash!, 256))).toBe(true);
      expect(existsSync(lib.engine.internals.thumbs.pathFor(r.hash!, 1024))).toBe(true);
      expect(existsSync(lib.engine.internals.thumbs.pathFor(r.hash!, MODEL_INPUT_SIZE))).toBe(true);
    }
    const status = await lib.engine.status();
    expect(status.counts).toEqual({ ok: 6, pending: 0, error: 0, missing: 0 });
    expect(status.folders[0]).toMatchObject({ path: p, photos: 6, state: 'ok' });
  });

  it('re-scans an unchanged library without a single write, and picks up only what changed', async () => {
    for (let i = 0; i < 20; i++) await writeImage(join(lib.photos, `p${i}.jpg`), { seed: i });
    await lib.engine.addFolder(lib.photos);
    await scanAndIndex();
    const before = lib.rows();
    const changesBefore = lib.engine.internals.db.prepare('SELECT total_changes() AS n').get() as { n: number };
    const again = await scanAndIndex();
    const changesAfter = lib.engine.internals.db.prepare('SELECT total_changes() AS n').get() as { n: number };
    expect(again.scan).toMatchObject({ seen: 20, added: 0, changed: 0, missing: 0 });
    expect(again.index.processed).toBe(0);
    // Only the job record and folder scan time were written, no photo row.
    expect(lib.rows()).toEqual(before.map((r) => ({ ...r })));
    expect(changesAfter.n - changesBefore.n).toBeLessThan(10);

    await writeImage(join(lib.photos, 'p3.jpg'), { seed: 300 });
    const future = new Date(Date.now() + 5000);
    utimesSync(join(lib.photos, 'p3.jpg'), future, future);
    const third = await scanAndIndex();
    expect(third.scan).toMatchObject({ changed: 1, added: 0 });
    expect(third.index.processed).toBe(1);
    const p3 = lib.row(join(lib.photos, 'p3.jpg'))!;
    expect(p3.id).toBe(before.find((r) => r.path.endsWith('/p3.jpg'))!.id);
    expect(p3.hash).not.toBe(before.find((r) => r.path.endsWith('/p3.jpg'))!.hash);
    // The old content's thumbnails are swept once nothing refers to them.
    expect(thumbFiles()).toHaveLength(20 * RENDITIONS.length);
  });

  it('keeps identity, albums and tags when a file is renamed or moved to another library folder — without decoding again', async () => {
    const other = join(lib.root, 'other');
    mkdirSync(other);
    await writeImage(join(lib.photos, 'beach.jpg'), { seed: 11 });
    await writeImage(join(lib.photos, 'city.jpg'), { seed: 12 });
    await lib.engine.addFolder(lib.photos);
    await lib.engine.addFolder(other);
    await scanAndIndex();
    const beach = lib.row(join(lib.photos, 'beach.jpg'))!;
    const city = lib.row(join(lib.photos, 'city.jpg'))!;
    const album = addToAlbum(lib.engine, 'Holiday', beach.id);
    addToAlbum(lib.engine, 'City', city.id);
    lib.engine.internals.db.prepare('INSERT INTO tags VALUES (?, ?, ?)').run(beach.id, 'sea', 1);
    const thumbStat = statSync(lib.engine.internals.thumbs.pathFor(beach.hash!, 256)).mtimeMs;

    renameSync(join(lib.photos, 'beach.jpg'), join(lib.photos, 'renamed beach.jpg'));
    renameSync(join(lib.photos, 'city.jpg'), join(other, 'city.jpg'));
    const { index } = await scanAndIndex();
    expect(index).toMatchObject({ processed: 2, moved: 2, ok: 0 });
    const moved = lib.row(join(lib.photos, 'renamed beach.jpg'))!;
    expect(moved.id).toBe(beach.id);
    expect(moved.state).toBe('ok');
    expect(albumPhotoIds(lib.engine, album)).toEqual([beach.id]);
    expect(lib.engine.internals.db.prepare('SELECT name FROM tags WHERE photo_id = ?').all(beach.id)).toEqual([{ name: 'sea' }]);
    const movedCity = lib.row(join(other, 'city.jpg'))!;
    expect(movedCity.id).toBe(city.id);
    expect(movedCity.folder_id).not.toBe(city.folder_id);
    expect(lib.rows()).toHaveLength(2);
    expect(statSync(lib.engine.internals.thumbs.pathFor(beach.hash!, 256)).mtimeMs).toBe(thumbStat);
  });

  it('keeps a deleted photo as missing and gives it back its identity when the file returns', async () => {
    await writeImage(join(lib.photos, 'x.jpg'), { seed: 21 });
    await lib.engine.addFolder(lib.photos);
    await scanAndIndex();
    const x = lib.row(join(lib.photos, 'x.jpg'))!;
    const album = addToAlbum(lib.engine, 'Keep', x.id);
    renameSync(join(lib.photos, 'x.jpg'), join(lib.root, 'x.jpg'));
    const gone = await scanAndIndex();
    expect(gone.scan.missing).toBe(1);
    expect(lib.row(join(lib.photos, 'x.jpg'))!.state).toBe('missing');
    expect(albumPhotoIds(lib.engine, album)).toEqual([x.id]);
    // Its thumbnails stay while the row may come back.
    expect(existsSync(lib.engine.internals.thumbs.pathFor(x.hash!, 1024))).toBe(true);
    renameSync(join(lib.root, 'x.jpg'), join(lib.photos, 'x.jpg'));
    const back = await scanAndIndex();
    expect(back.scan.revived).toBe(1);
    expect(lib.row(join(lib.photos, 'x.jpg'))).toMatchObject({ id: x.id, state: 'ok', hash: x.hash });
  });

  it('gives a copy its own row that shares the thumbnails of the original', async () => {
    await writeImage(join(lib.photos, 'one.jpg'), { seed: 31 });
    await lib.engine.addFolder(lib.photos);
    await scanAndIndex();
    copyFileSync(join(lib.photos, 'one.jpg'), join(lib.photos, 'two.jpg'));
    const { index } = await scanAndIndex();
    expect(index).toMatchObject({ processed: 1, ok: 1, moved: 0 });
    const [one, two] = [lib.row(join(lib.photos, 'one.jpg'))!, lib.row(join(lib.photos, 'two.jpg'))!];
    expect(two.id).not.toBe(one.id);
    expect(two.hash).toBe(one.hash);
    expect(two.width).toBe(one.width);
    expect(thumbFiles()).toHaveLength(RENDITIONS.length);
  });

  it('marks an unplugged folder offline instead of deleting its photos', async () => {
    await writeImage(join(lib.photos, 'y.jpg'), { seed: 41 });
    await lib.engine.addFolder(lib.photos);
    await scanAndIndex();
    renameSync(lib.photos, lib.photos + '.away');
    const off = await lib.engine.scan();
    expect(off.missing).toBe(0);
    expect((await lib.engine.listFolders())[0]!.state).toBe('offline');
    expect(lib.row(join(lib.photos, 'y.jpg'))!.state).toBe('ok');
    // The empty mount point of an unplugged disk (on another device than the disk was) is offline too...
    mkdirSync(lib.photos);
    lib.engine.internals.db.prepare(`UPDATE folders SET root_dev = 'disk-that-was-mounted-here'`).run();
    await lib.engine.scan();
    expect((await lib.engine.listFolders())[0]!.state).toBe('offline');
    expect(lib.row(join(lib.photos, 'y.jpg'))!.state).toBe('ok');
    rmSync(lib.photos, { recursive: true });
    renameSync(lib.photos + '.away', lib.photos);
    await lib.engine.scan();
    expect((await lib.engine.listFolders())[0]).toMatchObject({ state: 'ok', photos: 1, missing: 0 });
    // ...while a folder emptied on its own device just lost its photos.
    rmSync(join(lib.photos, 'y.jpg'));
    await lib.engine.scan();
    expect((await lib.engine.listFolders())[0]).toMatchObject({ state: 'ok', photos: 0, missing: 1 });
  });

  it('refuses a folder inside a library folder, absorbs one that contains them, gives it back when that one goes, and forgets a removed one', async () => {
    await writeImage(join(lib.photos, 'inner/z.jpg'), { seed: 51 });
    await lib.engine.addFolder(join(lib.photos, 'inner'));
    await scanAndIndex();
    const z = lib.row(join(lib.photos, 'inner/z.jpg'))!;
    const outer = await lib.engine.addFolder(lib.photos);
    expect(await lib.engine.listFolders()).toHaveLength(1);
    expect(lib.row(join(lib.photos, 'inner/z.jpg'))).toMatchObject({ id: z.id, folder_id: outer.id });
    await expect(lib.engine.addFolder(join(lib.photos, 'inner'))).rejects.toThrow(FolderError);
    await expect(lib.engine.addFolder(join(lib.root, 'nope'))).rejects.toThrow(/Folder not found/);
    // Undoing the absorbing add gives the absorbed folder back, with its photo and its identity.
    const r = await lib.engine.removeFolder(lib.photos);
    expect(r).toEqual({ removedPhotos: 0, restoredFolders: [join(lib.photos, 'inner')] });
    expect((await lib.engine.listFolders()).map((f) => f.path)).toEqual([join(lib.photos, 'inner')]);
    expect(lib.row(join(lib.photos, 'inner/z.jpg'))).toMatchObject({ id: z.id, state: 'ok' });
    const gone = await lib.engine.removeFolder(join(lib.photos, 'inner'));
    expect(gone).toEqual({ removedPhotos: 1, restoredFolders: [] });
    expect(lib.rows()).toHaveLength(0);
    expect(thumbFiles()).toHaveLength(0);
    expect(existsSync(join(lib.photos, 'inner/z.jpg'))).toBe(true);
  });

  it('keeps album places through a folder removed and added again (by content)', async () => {
    await writeImage(join(lib.photos, 'trip/a.jpg'), { seed: 71 });
    await writeImage(join(lib.photos, 'trip/b.jpg'), { seed: 72 });
    await writeImage(join(lib.photos, 'trip/c.jpg'), { seed: 73 });
    const trip = join(lib.photos, 'trip');
    await lib.engine.addFolder(trip);
    await scanAndIndex();
    const ids = ['a', 'b'].map((n) => lib.row(join(trip, `${n}.jpg`))!.id);
    const album = await lib.engine.createAlbum('Trip');
    await lib.engine.addToAlbum(album.id, [ids[1]!, ids[0]!]);
    // The user's mistake: the parent added (absorbing trip), then removed — trip comes back.
    await lib.engine.addFolder(lib.photos);
    expect((await lib.engine.removeFolder(lib.photos)).restoredFolders).toEqual([trip]);
    expect((await lib.engine.albumPhotos(album.id)).total).toBe(2);
    // Removed for real, then added again: the same pictures take their places back, in order.
    await lib.engine.removeFolder(trip);
    expect((await lib.engine.albumPhotos(album.id)).total).toBe(0);
    await lib.engine.addFolder(trip);
    await scanAndIndex();
    const back = await lib.engine.albumPhotos(album.id);
    expect(back.hits.map((h) => h.photo.path)).toEqual([join(trip, 'b.jpg'), join(trip, 'a.jpg')]);
  });

  it('lets one process index a library at a time, and takes over from one that died', async () => {
    await writeImage(join(lib.photos, 'q.jpg'), { seed: 61 });
    await lib.engine.addFolder(lib.photos);
    await lib.engine.scan();
    const other = spawn('sleep', ['30']);
    try {
      const now = Date.now();
      const insert = lib.engine.internals.db.prepare(`INSERT INTO jobs (kind, state, pid, started_at, updated_at) VALUES ('index', 'running', ?, ?, ?)`);
      insert.run(other.pid, now, now);
      await expect(lib.engine.index()).rejects.toThrow(LibraryBusyError);
      expect(lib.row(join(lib.photos, 'q.jpg'))!.state).toBe('pending');
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
      const summary = await lib.engine.index();
      expect(summary.ok).toBe(1);
      const states = (lib.engine.internals.db.prepare('SELECT state FROM jobs ORDER BY id').all() as { state: string }[]).map((j) => j.state);
      expect(states).toEqual(['interrupted', 'done']);
    } finally {
      other.kill('SIGKILL');
    }
  });
});
