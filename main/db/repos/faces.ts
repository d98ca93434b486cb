/**
 * Faces and people: the faces a face pack found in each picture (by content hash), the people
 * they are grouped into, which pictures each pack has looked at, and the user's "not this person".
 */
import type { Box } from '../../contract/api.js';
import { float32s, toBlob } from '../blobs.js';
import { ScanRepo } from './scans.js';

export type Landmarks = readonly (readonly [number, number])[];

export interface NewFace {
  readonly box: Box;
  readonly landmarks: Landmarks;
  readonly score: number;
  readonly quality: number;
  readonly vector: Float32Array;
}

export interface FaceRow {
  readonly id: number;
  readonly hash: string;
  readonly box: Box;
  readonly quality: number;
  readonly personId: number | null;
  readonly assignedBy: 'cluster' | 'user' | null;
}

export interface PersonRow {
  readonly id: number;
  readonly name: string | null;
  readonly hidden: boolean;
  readonly faces: number;
  /** Distinct photos (not pictures: copies count each). */
  readonly photos: number;
}

interface FaceColumns {
  id: number; hash: string; x: number; y: number; w: number; h: number; quality: number;
  person_id: number | null; assigned_by: string | null;
}

const faceRow = (r: FaceColumns): FaceRow => ({
  id: r.id, hash: r.hash, box: { x: r.x, y: r.y, w: r.w, h: r.h }, quality: r.quality, personId: r.person_id,
  assignedBy: r.assigned_by === 'user' || r.assigned_by === 'cluster' ? r.assigned_by : null,
});

export class FacesRepo extends ScanRepo {
  protected readonly scans = 'face_scans';

  /** A picture's faces as one pack found them (replacing any), and that it was looked at; returns the new faces' ids. */
  put(model: string, hash: string, faces: readonly NewFace[], now: number): number[] {
    return this.transaction(() => {
      this.run('DELETE FROM faces WHERE hash = ? AND model = ?', hash, model);
      const ids = faces.map((f) => this.run(`INSERT INTO faces (hash, model, x, y, w, h, landmarks, score, quality, vector, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, hash, model, f.box.x, f.box.y, f.box.w, f.box.h, JSON.stringify(f.landmarks),
      f.score, f.quality, toBlob(f.vector), now).lastId);
      this.run('INSERT OR REPLACE INTO face_scans (hash, model, faces, error, scanned_at) VALUES (?, ?, ?, NULL, ?)', hash, model, faces.length, now);
      return ids;
    });
  }

  recordFailure(model: string, hash: string, error: string, now: number): void {
    this.run('INSERT OR REPLACE INTO face_scans (hash, model, faces, error, scanned_at) VALUES (?, ?, 0, ?, ?)', hash, model, error, now);
  }

  vector(faceId: number): Float32Array | null {
    const r = this.one<{ vector: Buffer }>('SELECT vector FROM faces WHERE id = ?', faceId);
    return r ? float32s(r.vector) : null;
  }

  /** The faces of a model that belong to someone, with their vectors (clustering's memory of people). */
  assigned(model: string): { id: number; personId: number; vector: Float32Array }[] {
    return this.all<{ id: number; person_id: number; vector: Buffer }>(
      'SELECT id, person_id, vector FROM faces WHERE model = ? AND person_id IS NOT NULL', model)
      .map((r) => ({ id: r.id, personId: r.person_id, vector: float32s(r.vector) }));
  }

  byIds(ids: readonly number[]): FaceRow[] {
    return this.all<FaceColumns>(`SELECT id, hash, x, y, w, h, quality, person_id, assigned_by FROM faces
      WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`, JSON.stringify(ids)).map(faceRow);
  }

  ofHash(hash: string, model: string): FaceRow[] {
    return this.all<FaceColumns>('SELECT id, hash, x, y, w, h, quality, person_id, assigned_by FROM faces WHERE hash = ? AND model = ? ORDER BY x',
      hash, model).map(faceRow);
  }

  ofPerson(personId: number): FaceRow[] {
    return this.all<FaceColumns>('SELECT id, hash, x, y, w, h, quality, person_id, assigned_by FROM faces WHERE person_id = ? ORDER BY quality DESC, id',
      personId).map(faceRow);
  }

  /** A person's faces with a photo showing each (the first indexed copy, and its size as displayed), best first; at most `limit`. */
  facesOfPerson(personId: number, limit = -1): (FaceRow & { photoId: number; path: string; width: number; height: number })[] {
    return this.all<FaceColumns & { photo_id: number | null; path: string; width: number; height: number }>(`
      SELECT f.id, f.hash, f.x, f.y, f.w, f.h, f.quality, f.person_id, f.assigned_by, p.id AS photo_id, p.path, p.width, p.height
        FROM faces f JOIN photos p ON p.id = (SELECT min(q.id) FROM photos q WHERE q.hash = f.hash AND q.state = 'ok')
       WHERE f.person_id = ? ORDER BY f.quality DESC, f.id LIMIT ?`, personId, limit)
      .map((r) => ({ ...faceRow(r), photoId: r.photo_id!, path: r.path, width: r.width ?? 0, height: r.height ?? 0 }));
  }

  /** The faces on a picture as the viewer shows them: the active face pack's, with their people's names. */
  ofPicture(hash: string): { id: number; box: Box; personId: number | null; name: string | null }[] {
    return this.all<{ id: number; x: number; y: number; w: number; h: number; person_id: number | null; name: string | null }>(`
      SELECT f.id, f.x, f.y, f.w, f.h, f.person_id, pe.name FROM faces f LEFT JOIN people pe ON pe.id = f.person_id
       WHERE f.hash = ? AND f.model = (SELECT value FROM settings WHERE key = 'model.face') ORDER BY f.x`, hash)
      .map((r) => ({ id: r.id, box: { x: r.x, y: r.y, w: r.w, h: r.h }, personId: r.person_id, name: r.name }));
  }

  /** A face's photo (the first indexed copy), for showing it. */
  photoOfFace(faceId: number): { id: number; width: number; height: number } | null {
    const r = this.one<{ id: number; width: number | null; height: number | null }>(`SELECT p.id, p.width, p.height FROM faces f
      JOIN photos p ON p.id = (SELECT min(q.id) FROM photos q WHERE q.hash = f.hash AND q.state = 'ok') WHERE f.id = ?`, faceId);
    return r ? { id: r.id, width: r.width ?? 0, height: r.height ?? 0 } : null;
  }

  /** Pairs of (face, person) the user said are not the same. */
  rejections(faceIds: readonly number[]): Set<string> {
    const rows = this.all<{ face_id: number; person_id: number }>(
      'SELECT face_id, person_id FROM face_rejections WHERE face_id IN (SELECT value FROM json_each(?))', JSON.stringify(faceIds));
    return new Set(rows.map((r) => `${r.face_id}:${r.person_id}`));
  }

  reject(faceId: number, personId: number): void {
    this.run('INSERT OR IGNORE INTO face_rejections (face_id, person_id) VALUES (?, ?)', faceId, personId);
  }

  assign(faceId: number, personId: number | null, by: 'cluster' | 'user'): void {
    this.run('UPDATE faces SET person_id = ?, assigned_by = ? WHERE id = ?', personId, personId === null ? null : by, faceId);
  }

  createPerson(now: number, name: string | null = null): number {
    return this.run('INSERT INTO people (name, created_at, updated_at) VALUES (?, ?, ?)', name, now, now).lastId;
  }

  /** Everyone with a face, most photos first (or one person, by id), with their counts. */
  people(only: number | null = null): PersonRow[] {
    return this.all<{ id: number; name: string | null; hidden: number; faces: number; photos: number }>(`
      SELECT pe.id, pe.name, pe.hidden, count(DISTINCT f.id) AS faces, count(DISTINCT p.id) AS photos
        FROM people pe JOIN faces f ON f.person_id = pe.id JOIN photos p ON p.hash = f.hash AND p.state = 'ok'
       WHERE @only IS NULL OR pe.id = @only
       GROUP BY pe.id ORDER BY photos DESC, pe.id`, { only }).map((r) => ({ id: r.id, name: r.name, hidden: r.hidden === 1, faces: r.faces, photos: r.photos }));
  }

  person(id: number): { id: number; name: string | null; hidden: boolean } | null {
    const r = this.one<{ id: number; name: string | null; hidden: number }>('SELECT id, name, hidden FROM people WHERE id = ?', id);
    return r ? { id: r.id, name: r.name, hidden: r.hidden === 1 } : null;
  }

  /** The faces other face packs found on a picture that belong to someone (what a newly active pack inherits). */
  othersOnPicture(hash: string, model: string): { box: Box; personId: number; assignedBy: string | null }[] {
    return this.all<{ x: number; y: number; w: number; h: number; person_id: number; assigned_by: string | null }>(
      'SELECT x, y, w, h, person_id, assigned_by FROM faces WHERE hash = ? AND model != ? AND person_id IS NOT NULL', hash, model)
      .map((r) => ({ box: { x: r.x, y: r.y, w: r.w, h: r.h }, personId: r.person_id, assignedBy: r.assigned_by }));
  }

  /** The person with this name (case-insensitive), the one with most faces when several share it. */
  byName(name: string): number | null {
    return this.one<{ id: number }>(`SELECT pe.id FROM people pe LEFT JOIN faces f ON f.person_id = pe.id
      WHERE pe.name = ? GROUP BY pe.id ORDER BY count(f.id) DESC, pe.id LIMIT 1`, name.trim())?.id ?? null;
  }

  setName(id: number, name: string | null, now: number): void {
    this.run('UPDATE people SET name = ?, updated_at = ? WHERE id = ?', name, now, id);
  }

  setHidden(id: number, hidden: boolean, now: number): void {
    this.run('UPDATE people SET hidden = ?, updated_at = ? WHERE id = ?', hidden ? 1 : 0, now, id);
  }

  /** Moves every face of `from` to `into`, as the user's choice; `from` is deleted. */
  moveAll(from: number, into: number): void {
    this.run("UPDATE faces SET person_id = ?, assigned_by = 'user' WHERE person_id = ?", into, from);
    this.run('UPDATE OR IGNORE face_rejections SET person_id = ? WHERE person_id = ?', into, from);
    this.run('DELETE FROM people WHERE id = ?', from);
  }

  /** Faces that belong to no one yet, with their vectors (for suggestions), best quality first. */
  unassigned(model: string, minQuality: number): { id: number; vector: Float32Array }[] {
    return this.all<{ id: number; vector: Buffer }>(
      'SELECT id, vector FROM faces WHERE model = ? AND person_id IS NULL AND quality >= ? ORDER BY quality DESC, id', model, minQuality)
      .map((r) => ({ id: r.id, vector: float32s(r.vector) }));
  }

  /** Names people gave faces in other apps (MWG/Microsoft face regions) on the photos of a picture. */
  namedRegions(hash: string): { name: string; box: Box }[] {
    return this.all<{ name: string; x: number; y: number; w: number; h: number }>(`SELECT DISTINCT r.name, r.x, r.y, r.w, r.h
      FROM photo_regions r JOIN photos p ON p.id = r.photo_id
      WHERE p.hash = ? AND r.name IS NOT NULL AND (r.kind IS NULL OR r.kind = 'face')`, hash)
      .map((r) => ({ name: r.name, box: { x: r.x, y: r.y, w: r.w, h: r.h } }));
  }

  /** The person of that name (case-insensitive), made when there is none. */
  personNamed(name: string, now: number): number {
    return this.byName(name) ?? this.createPerson(now, name);
  }

  /** Pictures a face pack has looked at. */
  scanned(model: string): number {
    return this.one<{ n: number }>('SELECT count(*) AS n FROM face_scans WHERE model = ?', model)!.n;
  }

  /** A removed face pack's faces and scans; people left with no face go too. */
  dropModel(model: string): void {
    this.transaction(() => {
      this.run('DELETE FROM faces WHERE model = ?', model);
      this.run('DELETE FROM face_scans WHERE model = ?', model);
      this.run('DELETE FROM people WHERE id NOT IN (SELECT person_id FROM faces WHERE person_id IS NOT NULL)');
    });
  }

  /** Every face, person, scan and rejection: one action deletes all face data. */
  forgetAll(): number {
    return this.transaction(() => {
      const n = this.run('DELETE FROM faces').changes;
      this.run('DELETE FROM face_scans');
      this.run('DELETE FROM face_rejections');
      this.run('DELETE FROM people');
      return n;
    });
  }

  /** Faces whose picture no photo has any more, and people left with no face; returns how many faces went. */
  collectOrphans(): number {
    const gone = this.run('DELETE FROM faces WHERE hash NOT IN (SELECT hash FROM photos WHERE hash IS NOT NULL)').changes;
    this.run('DELETE FROM face_scans WHERE hash NOT IN (SELECT hash FROM photos WHERE hash IS NOT NULL)');
    this.run('DELETE FROM people WHERE name IS NULL AND id NOT IN (SELECT person_id FROM faces WHERE person_id IS NOT NULL)');
    return gone;
  }
}
