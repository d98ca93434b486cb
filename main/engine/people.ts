/**
 * People as the user sees them: the face stage's groups with their counts and best face, and the
 * corrections (faces/people.ts), each answered with the person as it is afterwards.
 */
import type { FaceInfo, PersonInfo } from '../contract/api.js';
import type { Repos } from '../db/repos/index.js';
import { mergePeople, moveFace, namePerson, hidePerson, notThisPerson, PeopleError, splitFaces } from '../faces/people.js';

export class People {
  constructor(private readonly repos: Repos) {}

  list(includeHidden = false): PersonInfo[] {
    return this.repos.faces.people().filter((p) => includeHidden || !p.hidden).map((p) => this.info(p.id, p));
  }

  private info(id: number, counts?: { faces: number; photos: number }): PersonInfo {
    const p = this.repos.faces.person(id);
    if (!p) throw new PeopleError(`there is no person ${id}`);
    const faces = this.repos.faces.facesOfPerson(id);
    const c = counts ?? { faces: faces.length, photos: new Set(faces.map((f) => f.photoId)).size };
    const best = faces[0];
    const cover = best ? { photoId: best.photoId, box: best.box } : null;
    return { id, name: p.name, hidden: p.hidden, faces: c.faces, photos: c.photos, cover };
  }

  faces(id: number): FaceInfo[] {
    if (!this.repos.faces.person(id)) throw new PeopleError(`there is no person ${id}`);
    return this.repos.faces.facesOfPerson(id).map((f) => ({
      id: f.id, photoId: f.photoId, path: f.path, box: f.box, quality: f.quality, personId: f.personId, assignedBy: f.assignedBy,
    }));
  }

  /** A person by id, or by name (as the CLI takes them). */
  find(ref: string | number): PersonInfo {
    const id = typeof ref === 'number' || /^\d+$/.test(ref) ? Number(ref) : this.repos.faces.byName(String(ref));
    if (id === null) throw new PeopleError(`no one is named ${ref}`);
    return this.info(id);
  }

  name(id: number, name: string): PersonInfo {
    namePerson(this.repos, id, name);
    return this.info(id);
  }

  merge(into: number, others: readonly number[]): PersonInfo {
    mergePeople(this.repos, into, others);
    return this.info(into);
  }

  split(faceIds: readonly number[]): PersonInfo {
    return this.info(splitFaces(this.repos, faceIds));
  }

  move(faceId: number, personId: number | null): void {
    moveFace(this.repos, faceId, personId);
  }

  notThis(faceId: number, personId: number): void {
    notThisPerson(this.repos, faceId, personId);
  }

  hide(id: number, hidden: boolean): PersonInfo {
    hidePerson(this.repos, id, hidden);
    return this.info(id);
  }

  forgetAll(): { faces: number } {
    return { faces: this.repos.faces.forgetAll() };
  }
}
