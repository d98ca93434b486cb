/**
 * People from the command line, on a library of the real photos with the real face models made
 * into a face pack: `loupe models import` takes the pack (detector/ and embedder/), `loupe index`
 * finds and groups the faces after embedding, `loupe people list` shows them; naming, merging,
 * "not this person" and hiding work; `person:` searches combine with filters and with -person:.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { PersonInfo, SearchResponse } from '../../main/contract/api.js';
import { libraryCli, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { facePackFromShared, HAVE_FACE_MODELS, HAVE_SHARED_PHOTOS, SHARED_PHOTOS } from '../helpers/shared.js';

const HAVE = HAVE_SHARED_PHOTOS && HAVE_FACE_MODELS;
const t = tempDir();
const photos = join(t.dir, 'photos');
const library = join(t.dir, 'library');
const { cli, json } = libraryCli(library);
const names = (r: SearchResponse): string[] => r.hits.map((h) => h.photo.path.slice(photos.length + 1)).sort();

describe.skipIf(!HAVE)('people from the command line (real face models from ../shared)', () => {
  beforeAll(async () => {
    const pack = join(t.dir, 'faces-pack');
    // BlazeFace without the verifier, which would drop the walker's weak face: two people to name, merge and tell apart.
    facePackFromShared(pack, false);
    mkdirSync(photos, { recursive: true });
    const astronaut = join(SHARED_PHOTOS, 'objects/skimage-astronaut.png');
    copyFileSync(astronaut, join(photos, 'astronaut.png'));
    await sharp(astronaut).resize(320).jpeg({ quality: 85 }).toFile(join(photos, 'astronaut-small.jpg'));
    await sharp(astronaut).flop().withExif({ IFD0: { Make: 'Canon', Model: 'EOS R5' } }).jpeg().toFile(join(photos, 'astronaut-mirror.jpg'));
    copyFileSync(join(SHARED_PHOTOS, 'objects/darknet-person.jpg'), join(photos, 'walker.jpg'));
    copyFileSync(join(SHARED_PHOTOS, 'objects/darknet-dog.jpg'), join(photos, 'dog.jpg'));
    const imported = await json<{ kind: string; active: boolean; embeddingDim: number }>('models', 'import', pack, '--name', 'faces', '--licence', 'Apache-2.0');
    expect(imported).toMatchObject({ kind: 'face', active: true, embeddingDim: 192 });
    await cli('add-folder', photos);
    await cli('index');
  }, 240_000);

  afterAll(() => t.cleanup());

  it('lists the people the index found: the astronaut in three photos, the walker in one', async () => {
    const people = await json<PersonInfo[]>('people', 'list');
    expect(people.map((p) => [p.photos, p.name])).toEqual([[3, null], [1, null]]);
    expect(await cli('people', 'list')).toMatch(/^#\d+\s+\(no name yet\)\s+3 photo\(s\)\s+3 face\(s\)$/m);
  });

  it('names people, and person: searches combine with filters and -person:', async () => {
    const [astronaut, walker] = await json<PersonInfo[]>('people', 'list');
    expect(await cli('people', 'name', String(astronaut!.id), 'Eileen')).toMatch(/is Eileen/);
    await cli('people', 'name', String(walker!.id), 'Walker');
    expect(names(await json<SearchResponse>('search', 'person:Eileen'))).toEqual(['astronaut-mirror.jpg', 'astronaut-small.jpg', 'astronaut.png']);
    expect(names(await json<SearchResponse>('search', 'person:eileen', '--camera', 'Canon'))).toEqual(['astronaut-mirror.jpg']);
    expect(names(await json<SearchResponse>('search', 'person:Walker'))).toEqual(['walker.jpg']);
    expect(names(await json<SearchResponse>('search', 'person:Eileen person:Walker'))).toEqual([]);
    expect(names(await json<SearchResponse>('search', 'person:Eileen -person:Walker'))).toEqual(['astronaut-mirror.jpg', 'astronaut-small.jpg', 'astronaut.png']);
    expect(names(await json<SearchResponse>('search', '--people-count', '1', '--', '-person:Eileen'))).toEqual(['walker.jpg']);
    expect(names(await json<SearchResponse>('search', '--people-count', '0'))).toEqual(['dog.jpg']);
    expect(names(await json<SearchResponse>('search', 'person:Walker', '--only-people'))).toEqual(['walker.jpg']);
    const unknown = await json<SearchResponse>('search', 'person:Nobody');
    expect(unknown.total).toBe(0);
    expect(unknown.notes.join(' ')).toMatch(/no one is named "Nobody"/);
  });

  it('merges, says "not this person", hides, and forgets everything with --yes', async () => {
    const [eileen, walker] = await json<PersonInfo[]>('people', 'list');
    const merged = await json<PersonInfo>('people', 'merge', 'Eileen', 'Walker');
    expect(merged).toMatchObject({ id: eileen!.id, name: 'Eileen', photos: 4 });
    expect(walker!.id).not.toBe(eileen!.id);
    const shown = await json<{ person: PersonInfo; faces: { id: number; path: string }[] }>('people', 'show', 'Eileen');
    expect(shown.person.name).toBe('Eileen');
    const walkerFace = shown.faces.find((f) => f.path.endsWith('walker.jpg'))!;
    await cli('people', 'not', String(walkerFace.id), 'Eileen');
    expect((await json<PersonInfo[]>('people', 'list'))[0]).toMatchObject({ name: 'Eileen', photos: 3 });
    await cli('people', 'hide', 'Eileen');
    expect(await json<PersonInfo[]>('people', 'list')).toEqual([]);
    expect((await json<PersonInfo[]>('people', 'list', '--all')).map((p) => p.hidden)).toEqual([true]);
    expect((await runCli(['--library', library, 'people', 'forget-all'])).stderr).toMatch(/--yes/);
    expect(await json<{ faces: number }>('people', 'forget-all', '--yes')).toEqual({ faces: 4 });
    expect(await json<PersonInfo[]>('people', 'list', '--all')).toEqual([]);
  });
});
