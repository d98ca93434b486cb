/**
 * People as the user sees them: the face stage's groups with their counts and best face, and the
 * corrections (faces/people.ts), each answered with the person as it is afterwards.
 */
import type { FaceInfo, FaceSuggestion, PersonInfo } from '../contract/api.js';
import { FACE_PACK_SETTING } from '../faces/stage.js';
import type { Repos } from '../db/repos/index.js';
import type { Grouping } from '../faces/cluster.js';
import { mergePeople, moveFace, namePerson, hidePerson, notThisPerson, PeopleError, splitFaces, suggestions } from '../faces/people.js';

export class People {
  /** @param grouping a face pack's own thresholds, where its manifest names them. */
  constructor(private readonly repos: Repos, private readonly grouping: (pack: string) => Grouping | undefined = () => undefined) {}

  list(includeHidden = false): PersonInfo[] {
    return this.repos.faces.people().filter((p) => includeHidden || !p.hidden).map((p) => this.info(p.id, p));
  }

  private info(id: number, counts?: { faces: number; photos: number }): PersonInfo {
    const p = this.repos.faces.person(id);
    if (!p) throw new PeopleError(`there is no person ${id}`);
    // The list's own counts, one person's when asked for alone; and only the best face, for the cover.
    const c = counts ?? this.repos.faces.people(id)[0] ?? { faces: 0, photos: 0 };
    const [best] = this.repos.faces.facesOfPerson(id, 1);
    const cover = best ? { photoId: best.photoId, box: best.box, width: best.width, height: best.height } : null;
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

  /** Faces of no one that are clearly someone (the active face pack's), best first. */
  suggestions(limit = 50): FaceSuggestion[] {
    const model = this.repos.settings.get(FACE_PACK_SETTING);
    if (!model) return [];
    return suggestions(this.repos, model, this.grouping(model)).sort((a, b) => b.similarity - a.similarity).slice(0, limit).flatMap((s) => {
      const [face] = this.repos.faces.byIds([s.faceId]);
      const photo = this.repos.faces.photoOfFace(s.faceId);
      if (!face || photo === null) return [];
      const personName = this.repos.faces.person(s.personId)?.name ?? null;
      return [{
        faceId: s.faceId, photoId: photo.id, width: photo.width, height: photo.height,
        box: face.box, personId: s.personId, personName, similarity: s.similarity,
      }];
    });
  }

  forgetAll(): { faces: number } {
    return { faces: this.repos.faces.forgetAll() };
  }
}
