/**
 * People on a whole library of the real photos (all of ../shared/data/photos) plus generated
 * group photos (the astronaut's face pasted two and three times into real scenes at 28–96 px,
 * mirrored or not, beside the cat's and the dog's faces), with the face pack as it is made from
 * the real weights: BlazeFace finds, the full-range detector confirms, MobileFaceNet groups.
 * `loupe people list` shows the one person the photos hold, with every photo of hers and every
 * face where it was pasted; no cat, horse or landscape becomes a person; the people-count filter
 * counts faces per photo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaceInfo, PersonInfo, SearchResponse } from '../../main/contract/api.js';
import { iou } from '../../main/encoders/face-geometry.js';
import { libraryCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { groupPhoto, type GroupPhoto, type Placed } from '../helpers/group-photos.js';
import { facePackFromShared, HAVE_FACE_MODELS, HAVE_SHARED_PHOTOS, SHARED_PHOTOS } from '../helpers/shared.js';

const HAVE = HAVE_SHARED_PHOTOS && HAVE_FACE_MODELS;
const t = tempDir();
const photos = join(t.dir, 'photos');
const { cli, json } = libraryCli(join(t.dir, 'library'), '--device', 'cpu');
const names = (r: SearchResponse): string[] => r.hits.map((h) => h.photo.path.slice(photos.length + 1)).sort();

/** The group photos: where each goes, and who is in it. */
const GROUPS: Record<string, [string, Placed[]]> = {
  'groups/two-and-a-cat.png': ['scenes/kde-path.jpg', [
    { who: 'astronaut', size: 64, at: [0.15, 0.3] }, { who: 'astronaut', size: 40, flip: true, at: [0.75, 0.5] }, { who: 'cat', size: 120, at: [0.45, 0.9] },
  ]],
  'groups/one-and-a-dog.png': ['scenes/kde-coldripple.jpg', [{ who: 'astronaut', size: 48, at: [0.2, 0.5] }, { who: 'dog', size: 60, at: [0.7, 0.3] }]],
  'groups/three.png': ['scenes/kde-onestandsout.jpg', [
    { who: 'astronaut', size: 96, flip: true, at: [0.5, 0.4] }, { who: 'astronaut', size: 32, at: [0.1, 0.1] }, { who: 'astronaut', size: 28, at: [0.9, 0.85] },
  ]],
  'groups/one-cat-one-dog.png': ['scenes/kde-kite.jpg', [
    { who: 'astronaut', size: 56, at: [0.3, 0.6] }, { who: 'cat', size: 90, at: [0.85, 0.2] }, { who: 'dog', size: 50, at: [0.05, 0.05] },
  ]],
};
const made = new Map<string, GroupPhoto>();
const realPhotos: string[] = [];

describe.skipIf(!HAVE)('people on the whole real library plus group photos (real face models from ../shared)', () => {
  beforeAll(async () => {
    for (const dir of ['objects', 'scenes', 'text']) {
      for (const f of readdirSync(join(SHARED_PHOTOS, dir))) {
        if (!/\.(jpe?g|png)$/i.test(f)) continue;
        cpSync(join(SHARED_PHOTOS, dir, f), join(photos, dir, f));
        realPhotos.push(`${dir}/${f}`);
      }
    }
    mkdirSync(join(photos, 'groups'), { recursive: true });
    for (const [name, [scene, placed]] of Object.entries(GROUPS)) {
      const g = await groupPhoto(scene, placed);
      made.set(name, g);
      writeFileSync(join(photos, name), g.png);
    }
    const pack = facePackFromShared(join(t.dir, 'faces-pack'));
    await cli('models', 'import', pack, '--name', 'faces');
    await cli('add-folder', photos);
    await cli('--threads', '2', 'index');
  }, 300_000);

  afterAll(() => t.cleanup());

  it('shows one person, the astronaut, in her photo and every group photo, with each face where it was pasted', async () => {
    const people = await json<PersonInfo[]>('people', 'list');
    const hers = [...made.values()].flatMap((g) => g.faces.filter((f) => f.who === 'astronaut'));
    expect(people.map((p) => [p.photos, p.faces])).toEqual([[1 + made.size, 1 + hers.length]]);
    const { faces } = await json<{ faces: FaceInfo[] }>('people', 'show', String(people[0]!.id));
    for (const [name, g] of made) {
      const found = faces.filter((f) => f.path.endsWith(name));
      const px = (f: FaceInfo): { x1: number; y1: number; x2: number; y2: number } => ({
        x1: f.box.x * g.width, y1: f.box.y * g.height, x2: (f.box.x + f.box.w) * g.width, y2: (f.box.y + f.box.h) * g.height,
      });
      for (const truth of g.faces.filter((f) => f.who === 'astronaut')) {
        expect(found.some((f) => iou(px(f), truth.box) >= 0.5), `${name}: her face at ${JSON.stringify(truth.box)}`).toBe(true);
      }
    }
  });

  it('finds no one in the animals and landscapes, and counts the people in each photo', async () => {
    const none = names(await json<SearchResponse>('search', '--people-count', '0', '--limit', '100'));
    expect(none).toEqual(realPhotos.filter((p) => !p.endsWith('astronaut.png')).sort());
    expect(names(await json<SearchResponse>('search', '--people-count', '3'))).toEqual(['groups/three.png']);
    expect(names(await json<SearchResponse>('search', '--people-count', '2'))).toEqual(['groups/two-and-a-cat.png']);
    const [her] = await json<PersonInfo[]>('people', 'list');
    await cli('people', 'name', String(her!.id), 'Eileen');
    expect(names(await json<SearchResponse>('search', 'person:Eileen', '--people-count', '1'))).toEqual([
      'groups/one-and-a-dog.png', 'groups/one-cat-one-dog.png', 'objects/skimage-astronaut.png',
    ]);
    expect(names(await json<SearchResponse>('search', 'person:Eileen', '--only-people'))).toHaveLength(1 + made.size);
  });
});
