/**
 * What the user does with people: name one, merge two, split faces off into someone new, move a
 * face, say "not this person" (remembered: never suggested again), hide someone, and forget all
 * face data at once; and the suggestions "is this Ana?" for faces that are no one yet. Each
 * correction touches only the faces it names: other people's faces never change.
 */
import { UserError } from '../contract/errors.js';
import type { Repos } from '../db/repos/index.js';
import { centres, closestPerson, MIN_QUALITY, type Grouping } from './cluster.js';

export class PeopleError extends UserError {}

function existing(repos: Repos, id: number): { id: number; name: string | null } {
  const p = repos.faces.person(id);
  if (!p) throw new PeopleError(`there is no person ${id}`);
  return p;
}

export function namePerson(repos: Repos, id: number, name: string): void {
  existing(repos, id);
  const clean = name.trim().replace(/\s+/g, ' ');
  if (clean.length === 0 || clean.length > 100) throw new PeopleError('a name is 1–100 characters');
  repos.faces.setName(id, clean, Date.now());
}

export function hidePerson(repos: Repos, id: number, hidden: boolean): void {
  existing(repos, id);
  repos.faces.setHidden(id, hidden, Date.now());
}

/** Merges people into the first: their faces become its faces; it keeps its name, or takes the first of theirs. */
export function mergePeople(repos: Repos, into: number, others: readonly number[]): void {
  const target = existing(repos, into);
  const rest = [...new Set(others)].filter((o) => o !== into).map((o) => existing(repos, o));
  if (rest.length === 0) throw new PeopleError('merging needs two different people');
  repos.transaction(() => {
    if (target.name === null) {
      const named = rest.find((r) => r.name !== null);
      if (named) repos.faces.setName(into, named.name, Date.now());
    }
    for (const r of rest) repos.faces.moveAll(r.id, into);
  });
}

/** Faces split off into a new person (the user's choice, so clustering never moves them back); returns the new person. */
export function splitFaces(repos: Repos, faceIds: readonly number[]): number {
  const faces = repos.faces.byIds(faceIds);
  if (faces.length === 0 || faces.length !== new Set(faceIds).size) throw new PeopleError('no such faces');
  return repos.transaction(() => {
    const id = repos.faces.createPerson(Date.now());
    for (const f of faces) repos.faces.assign(f.id, id, 'user');
    return id;
  });
}

/** A face given to someone (or to no one), as the user's choice. */
export function moveFace(repos: Repos, faceId: number, personId: number | null): void {
  if (repos.faces.byIds([faceId]).length === 0) throw new PeopleError(`there is no face ${faceId}`);
  if (personId !== null) existing(repos, personId);
  repos.faces.assign(faceId, personId, 'user');
}

/** "Not this person": the face leaves them if it was theirs, and is never suggested for them again. */
export function notThisPerson(repos: Repos, faceId: number, personId: number): void {
  const [face] = repos.faces.byIds([faceId]);
  if (!face) throw new PeopleError(`there is no face ${faceId}`);
  existing(repos, personId);
  repos.transaction(() => {
    repos.faces.reject(faceId, personId);
    if (face.personId === personId) repos.faces.assign(faceId, null, 'user');
  });
}

/** "Is this Ana?": faces of no one that are clearly someone, skipping what the user said they are not. */
export function suggestions(repos: Repos, model: string, grouping?: Grouping): { faceId: number; personId: number; similarity: number }[] {
  const people = [...centres(repos.faces.assigned(model)).values()];
  const faces = repos.faces.unassigned(model, MIN_QUALITY);
  const rejected = repos.faces.rejections(faces.map((f) => f.id));
  return faces.flatMap((f) => {
    const m = closestPerson(f.vector, people, (p) => rejected.has(`${f.id}:${p}`), grouping);
    return m ? [{ faceId: f.id, personId: m.id, similarity: m.similarity }] : [];
  });
}
