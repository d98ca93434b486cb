/**
 * The user's corrections to people, on a real library database: name, merge, split, move a face,
 * "not this person" (never suggested again), hide, and forget all face data. Faces are stored as
 * the face stage stores them (photos indexed for real; vectors set here so who is who is known).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mergePeople, moveFace, namePerson, hidePerson, notThisPerson, PeopleError, splitFaces, suggestions } from '../../main/faces/people.js';
import type { Repos } from '../../main/db/repos/index.js';
import { writeImage } from '../helpers/fixtures.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';

const MODEL = 'test-faces';
let lib: TestLibrary;
let repos: Repos;
const face: Record<string, number> = {};
let ana = 0;
let leo = 0;

/** A unit vector near axis `axis` (of 8), nudged by `k` along the next one. */
const near = (axis: number, k: number): Float32Array => {
  const v = new Float32Array(8);
  v[axis] = 1;
  v[(axis + 1) % 8] = k;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

const personOf = (name: string): number | null => repos.faces.byIds([face[name]!])[0]!.personId;

beforeAll(async () => {
  lib = testLibrary();
  for (let i = 0; i < 6; i++) await writeImage(join(lib.photos, `p${i}.jpg`), { seed: i + 1 });
  await indexPhotos(lib);
  repos = lib.engine.internals.repos;
  const hash = (i: number): string => lib.row(join(lib.photos, `p${i}.jpg`))!.hash!;
  const put = (i: number, names: string[], vectors: Float32Array[]): void => {
    const ids = repos.faces.put(MODEL, hash(i), vectors.map((vector, j) => ({
      box: { x: 0.1 * j, y: 0.1, w: 0.1, h: 0.1 }, landmarks: [], score: 0.9, quality: 0.8, vector,
    })), Date.now());
    names.forEach((n, j) => { face[n] = ids[j]!; });
  };
  put(0, ['ana1', 'leo1'], [near(0, 0.05), near(3, 0.05)]);
  put(1, ['ana2'], [near(0, 0.1)]);
  put(2, ['ana3', 'leo2'], [near(0, 0.02), near(3, 0.1)]);
  put(3, ['stranger'], [near(6, 0)]);
  put(4, ['unsure'], [near(0, 0.15)]);
  ana = repos.faces.createPerson(Date.now());
  leo = repos.faces.createPerson(Date.now());
  for (const n of ['ana1', 'ana2', 'ana3']) repos.faces.assign(face[n]!, ana, 'cluster');
  for (const n of ['leo1', 'leo2']) repos.faces.assign(face[n]!, leo, 'cluster');
});

afterAll(async () => {
  await lib?.close();
});

describe("the user's word on people", () => {
  it('suggests "is this Ana?" for a face of no one that is clearly her, and not for a stranger', () => {
    expect(suggestions(repos, MODEL)).toEqual([{ faceId: face['unsure'], personId: ana, similarity: expect.any(Number) }]);
  });

  it('"not this person" is remembered: the suggestion never comes back, and a face of hers leaves her', () => {
    notThisPerson(repos, face['unsure']!, ana);
    expect(suggestions(repos, MODEL)).toEqual([]);
    notThisPerson(repos, face['ana3']!, ana);
    expect(personOf('ana3')).toBeNull();
    expect(personOf('ana1')).toBe(ana);
  });

  it('names a person, and naming changes no face', () => {
    const before = Object.keys(face).map(personOf);
    namePerson(repos, ana, '  Ana  Silva ');
    expect(repos.faces.person(ana)!.name).toBe('Ana Silva');
    expect(Object.keys(face).map(personOf)).toEqual(before);
    expect(() => namePerson(repos, ana, '   ')).toThrow(PeopleError);
    expect(() => namePerson(repos, 9999, 'x')).toThrow(/no person 9999/);
  });

  it('moves a face to someone as the user says, and splits faces off into someone new', () => {
    moveFace(repos, face['ana3']!, ana);
    expect(repos.faces.byIds([face['ana3']!])[0]).toMatchObject({ personId: ana, assignedBy: 'user' });
    const newcomer = splitFaces(repos, [face['leo2']!]);
    expect(personOf('leo2')).toBe(newcomer);
    expect(personOf('leo1')).toBe(leo);
  });

  it('merges two people into one, keeping the name, and the merged person is gone', () => {
    const newcomer = personOf('leo2')!;
    namePerson(repos, newcomer, 'Leo');
    mergePeople(repos, leo, [newcomer]);
    expect(personOf('leo2')).toBe(leo);
    expect(repos.faces.person(leo)!.name).toBe('Leo');
    expect(repos.faces.person(newcomer)).toBeNull();
    expect(() => mergePeople(repos, leo, [leo])).toThrow(/two different people/);
  });

  it('hides a person, and forgets every face and person in one action', () => {
    hidePerson(repos, leo, true);
    expect(repos.faces.people().find((p) => p.id === leo)).toMatchObject({ hidden: true, name: 'Leo', faces: 2 });
    expect(repos.faces.forgetAll()).toBe(7);
    expect(repos.faces.people()).toEqual([]);
    expect(lib.engine.internals.db.prepare('SELECT (SELECT count(*) FROM faces) + (SELECT count(*) FROM face_scans) + (SELECT count(*) FROM face_rejections) AS n').get()).toEqual({ n: 0 });
  });
});
