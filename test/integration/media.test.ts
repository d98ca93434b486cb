/**
 * Originals are served only while they are the file that was indexed: a photo replaced by a link
 * to a system file, by other bytes, or moved out of its folder is refused (404), and its folder is
 * looked at again; the real file is served as it is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { MediaError } from '../../main/contract/media.js';
import { writeImage } from '../helpers/fixtures.js';
import { nextEvent, testLibrary, type TestLibrary } from '../helpers/library.js';

let lib: TestLibrary;
const idOf = (name: string): number => lib.row(join(lib.photos, name))!.id;

beforeAll(async () => {
  lib = testLibrary();
  for (const name of ['kept.jpg', 'linked.jpg', 'rewritten.jpg', 'moved.jpg']) await writeImage(join(lib.photos, name), { width: 320, height: 240, seed: name.length });
  await lib.engine.addFolder(lib.photos);
  await lib.engine.scan();
  expect((await lib.engine.index()).ok).toBe(4);
});

afterAll(async () => {
  await lib.close();
});

describe('originals', () => {
  it('serves the indexed file as it is', async () => {
    const m = await lib.engine.media(`photo/${idOf('kept.jpg')}`);
    expect(m).toMatchObject({ kind: 'bytes', type: 'image/jpeg' });
    expect((await sharp((m as { data: Buffer }).data).metadata()).width).toBe(320);
  });

  it('refuses a photo replaced by a link to a system file, and looks at its folder again', async () => {
    const id = idOf('linked.jpg');
    rmSync(join(lib.photos, 'linked.jpg'));
    symlinkSync('/etc/passwd', join(lib.photos, 'linked.jpg'));
    const looked = nextEvent(lib.engine, (e) => e.type === 'indexed');
    const err = await lib.engine.media(`photo/${id}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err).toMatchObject({ status: 404 });
    expect(String((err as Error).message)).not.toContain('root:');
    await looked;
    // The link now reads as what it is: not a picture of this library.
    expect(lib.row(join(lib.photos, 'linked.jpg'))!.state).not.toBe('ok');
    await expect(lib.engine.media(`photo/${id}`)).rejects.toMatchObject({ status: 404 });
  });

  it('refuses a photo whose bytes changed since it was indexed', async () => {
    const id = idOf('rewritten.jpg');
    const before = lib.row(join(lib.photos, 'rewritten.jpg'))!;
    writeFileSync(join(lib.photos, 'rewritten.jpg'), Buffer.alloc(before.size, 1));
    utimesSync(join(lib.photos, 'rewritten.jpg'), new Date(), new Date(before.mtime_ms + 5000));
    await expect(lib.engine.media(`photo/${id}`)).rejects.toMatchObject({ status: 404 });
  });

  it('refuses a photo whose file now leads out of its folder', async () => {
    const id = idOf('moved.jpg');
    renameSync(join(lib.photos, 'moved.jpg'), join(lib.root, 'moved-away.jpg'));
    symlinkSync(join(lib.root, 'moved-away.jpg'), join(lib.photos, 'moved.jpg'));
    // Same bytes, same size and time, but outside the folder the user added: not served.
    await expect(lib.engine.media(`photo/${id}`)).rejects.toMatchObject({ status: 404 });
  });
});
