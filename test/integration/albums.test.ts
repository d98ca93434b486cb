/** Albums on a real library: order, smart albums, moves and renames, export to a folder. */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';

let lib: TestLibrary;
afterEach(async () => { await lib?.close(); });

async function library(n: number): Promise<number[]> {
  lib = testLibrary();
  for (let i = 0; i < n; i++) {
    await writeImage(join(lib.photos, `p${i}.jpg`), { seed: i + 1, exif: { IFD0: { Make: i % 2 ? 'Canon' : 'Nikon' } } });
  }
  await indexPhotos(lib);
  return lib.rows().sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true })).map((r) => r.id);
}

const paths = (r: { hits: readonly { photo: { path: string } }[] }): string[] => r.hits.map((h) => h.photo.path.split('/').pop()!);

describe('albums', () => {
  it('create, add in order, insert before, reorder, remove, rename, delete', async () => {
    const [a, b, c, d] = await library(4);
    const album = await lib.engine.createAlbum('  Summer   2024 ');
    expect(album.name).toBe('Summer 2024');
    await lib.engine.addToAlbum(album.id, [c!, a!]);
    await lib.engine.addToAlbum(album.id, [d!], a);
    expect(paths(await lib.engine.albumPhotos(album.id))).toEqual(['p2.jpg', 'p3.jpg', 'p0.jpg']);
    await lib.engine.reorderAlbum(album.id, [a!]);
    expect(paths(await lib.engine.albumPhotos(album.id))).toEqual(['p0.jpg', 'p2.jpg', 'p3.jpg']);
    // Adding one already there moves it.
    await lib.engine.addToAlbum(album.id, [a!]);
    expect(paths(await lib.engine.albumPhotos(album.id))).toEqual(['p2.jpg', 'p3.jpg', 'p0.jpg']);
    const after = await lib.engine.removeFromAlbum(album.id, [d!]);
    expect(after.count).toBe(2);
    expect(after.coverPhotoId).toBe(c);
    expect((await lib.engine.renameAlbum(album.id, 'Holidays')).name).toBe('Holidays');
    // An unknown photo fails the whole add.
    await expect(lib.engine.addToAlbum(album.id, [b!, 99999])).rejects.toThrow(/no photo with id 99999/);
    expect((await lib.engine.albumPhotos(album.id)).total).toBe(2);
    await expect(lib.engine.createAlbum('   ')).rejects.toThrow(/name/);
    await lib.engine.deleteAlbum(album.id);
    expect(await lib.engine.listAlbums()).toEqual([]);
    // The photos are untouched.
    expect(lib.rows()).toHaveLength(4);
  });

  it('follow their photos through a rename and a move to another folder', async () => {
    const [a] = await library(3);
    const album = await lib.engine.createAlbum('Keep');
    await lib.engine.addToAlbum(album.id, [a!]);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(lib.photos, 'sub'));
    renameSync(join(lib.photos, 'p0.jpg'), join(lib.photos, 'sub', 'renamed.jpg'));
    await lib.engine.scan();
    await lib.engine.index();
    const r = await lib.engine.albumPhotos(album.id);
    expect(r.hits.map((h) => h.photo.id)).toEqual([a]);
    expect(r.hits[0]!.photo.path).toBe(join(lib.photos, 'sub', 'renamed.jpg'));
  });

  it('smart albums run their saved query, so they follow the library', async () => {
    await library(4);
    const smart = await lib.engine.createAlbum('Nikon shots', { filters: { camera: 'nikon' } });
    expect(smart.query).toEqual({ filters: { camera: 'nikon' } });
    expect(paths(await lib.engine.albumPhotos(smart.id)).sort()).toEqual(['p0.jpg', 'p2.jpg']);
    await writeImage(join(lib.photos, 'new.jpg'), { seed: 40, exif: { IFD0: { Make: 'NIKON CORPORATION' } } });
    await lib.engine.scan();
    await lib.engine.index();
    expect(paths(await lib.engine.albumPhotos(smart.id)).sort()).toEqual(['new.jpg', 'p0.jpg', 'p2.jpg']);
    await expect(lib.engine.addToAlbum(smart.id, [1])).rejects.toThrow(/smart album/);
    await expect(lib.engine.createAlbum('bad', { limit: 0 } as never)).rejects.toThrow(/limit/);
  });

  it('export copies the photos in album order, resolves name clashes, reports a missing file and carries on', async () => {
    const ids = await library(3);
    const out = tempDir();
    try {
      await writeImage(join(lib.photos, 'x', 'p0.jpg'), { seed: 77 });
      await lib.engine.scan();
      await lib.engine.index();
      const clash = lib.rows().find((r) => r.path.endsWith('x/p0.jpg'))!.id;
      const album = await lib.engine.createAlbum('Export me');
      await lib.engine.addToAlbum(album.id, [ids[2]!, ids[0]!, clash, ids[1]!]);
      rmSync(join(lib.photos, 'p1.jpg'));
      const progress: number[] = [];
      const s = await lib.engine.exportAlbum(album.id, out.dir, { onProgress: (p) => progress.push(p.done) });
      expect(s.copied).toBe(3);
      expect(s.failed.map((f) => f.path.split('/').pop())).toEqual(['p1.jpg']);
      expect(s.failed[0]!.error).toMatch(/gone/);
      expect(progress).toEqual([1, 2, 3, 4]);
      expect(readdirSync(out.dir).sort()).toEqual(['1 p2.jpg', '2 p0.jpg', '3 p0.jpg']);
      expect(readFileSync(join(out.dir, '2 p0.jpg')).equals(readFileSync(join(lib.photos, 'p0.jpg')))).toBe(true);
      expect(readFileSync(join(out.dir, '3 p0.jpg')).equals(readFileSync(join(lib.photos, 'x', 'p0.jpg')))).toBe(true);
      // Exporting again never overwrites.
      const again = await lib.engine.exportAlbum(album.id, out.dir);
      expect(again.copied).toBe(3);
      expect(readdirSync(out.dir)).toHaveLength(6);
      expect(existsSync(join(out.dir, '1 p2 (2).jpg'))).toBe(true);
      expect(readdirSync(out.dir).some((f) => f.includes('loupe-tmp'))).toBe(false);
    } finally {
      out.cleanup();
    }
  });
});
