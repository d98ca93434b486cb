import { join } from 'node:path';
import type { EngineEvent } from '../../main/contract/api.js';
import { Engine, type EngineOptions } from '../../main/engine/engine.js';
import type { PhotoRow } from '../../main/db/repos/photos.js';
import { tempDir } from './fixtures.js';

export interface TestLibrary {
  readonly engine: Engine;
  readonly photos: string;
  readonly root: string;
  rows(): PhotoRow[];
  row(path: string): PhotoRow | undefined;
  close(): Promise<void>;
}

/** A real library (SQLite file + thumbnail folder) beside a real photos folder, in a temp dir. */
export function testLibrary(opts: Omit<EngineOptions, 'libraryDir'> = {}): TestLibrary {
  const t = tempDir();
  const engine = Engine.open({ libraryDir: join(t.dir, 'library'), concurrency: 4, ...opts });
  const photos = join(t.dir, 'photos');
  return {
    engine, photos, root: t.dir,
    rows: () => engine.internals.db.prepare('SELECT * FROM photos ORDER BY path').all() as PhotoRow[],
    row: (path) => engine.internals.db.prepare('SELECT * FROM photos WHERE path = ?').get(path) as PhotoRow | undefined,
    close: async () => { await engine.close(); t.cleanup(); },
  };
}

export function addToAlbum(engine: Engine, name: string, photoId: number): number {
  const now = Date.now();
  const album = Number(engine.internals.db.prepare('INSERT INTO albums (name, created_at, updated_at) VALUES (?, ?, ?)').run(name, now, now).lastInsertRowid);
  engine.internals.db.prepare('INSERT INTO album_items (album_id, photo_id, position, added_at) VALUES (?, ?, 1, ?)').run(album, photoId, now);
  return album;
}

export function albumPhotoIds(engine: Engine, album: number): number[] {
  return (engine.internals.db.prepare('SELECT photo_id FROM album_items WHERE album_id = ? ORDER BY photo_id').all(album) as { photo_id: number }[])
    .map((r) => r.photo_id);
}

/** The first engine event `match` accepts, or a rejection after `ms` (a deadline, never a sleep). */
export function nextEvent<E extends EngineEvent>(engine: Engine, match: (e: EngineEvent) => e is E, ms?: number): Promise<E>;
export function nextEvent(engine: Engine, match: (e: EngineEvent) => boolean, ms?: number): Promise<EngineEvent>;
export function nextEvent(engine: Engine, match: (e: EngineEvent) => boolean, ms = 60_000): Promise<EngineEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no matching engine event within ${ms} ms`)); }, ms);
    const off = engine.on((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

/** Adds the library's photos folder, scans it and indexes it (the models that are active run too). */
export async function indexPhotos(lib: TestLibrary): Promise<void> {
  await lib.engine.addFolder(lib.photos);
  await lib.engine.scan();
  await lib.engine.index();
}
