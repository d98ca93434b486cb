/**
 * The queries search asks of the library: which indexed photos pass a request's filters (as SQL
 * over the photos table), browsing by date, and photos of the contents the index returned.
 * Filtered statements are built from the filters' shape and prepared once per shape.
 */
import type { SearchFilters } from '../../contract/api.js';
import type { PhotoRow, PhotoWithContent } from './photos.js';
import { placeKey } from './places.js';
import { Repo } from './repo.js';

export interface SqlFilter {
  /** Conditions on `p` (photos) joined with AND. */
  readonly where: string;
  readonly params: (string | number)[];
}

const ORIENTATION: Record<string, string> = {
  landscape: 'p.width > p.height',
  portrait: 'p.width < p.height',
  square: 'p.width = p.height',
};

/** ORDER BY clauses of a browse; each matches an index of migration 5 term for term. */
export const BROWSE_ORDER = {
  newest: 'p.taken_at_ms IS NULL, p.taken_at_ms DESC, p.id DESC',
  oldest: 'p.taken_at_ms IS NULL, p.taken_at_ms ASC, p.id ASC',
} as const;

function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** The filters as a WHERE clause; indexed photos only (state ok, with a content hash). */
/** The face quality below which a face is not counted as a person (faces/cluster.ts keeps it the same). */
export const FACE_MIN_QUALITY = 0.1;

export function filterSql(f: SearchFilters = {}): SqlFilter {
  // Unary + keeps SQLite from driving a join through the state index (it would scan every
  // indexed photo per candidate); joins come in by id or hash.
  // A RAW that is the companion of a JPEG beside it is not a photo of its own.
  const where = [`+p.state = 'ok'`, '+p.hash IS NOT NULL', 'p.companion_of IS NULL'];
  const params: (string | number)[] = [];
  if (f.from !== undefined) {
    where.push('p.taken_at_ms >= ?');
    params.push(f.from);
  }
  if (f.to !== undefined) {
    where.push('p.taken_at_ms <= ?');
    params.push(f.to);
  }
  if (f.folders && f.folders.length > 0) {
    where.push(`p.folder_id IN (${placeholders(f.folders.length)})`);
    params.push(...f.folders);
  }
  if (f.albums && f.albums.length > 0) {
    where.push(`p.id IN (SELECT photo_id FROM album_items WHERE album_id IN (${placeholders(f.albums.length)}))`);
    params.push(...f.albums);
  }
  if (f.camera !== undefined && f.camera.trim() !== '') {
    where.push(`instr(lower(coalesce(p.camera_make, '') || ' ' || coalesce(p.camera_model, '')), ?) > 0`);
    params.push(f.camera.trim().toLowerCase());
  }
  if (f.hasLocation === true) where.push('p.gps_lat IS NOT NULL AND p.gps_lon IS NOT NULL');
  if (f.hasLocation === false) where.push('(p.gps_lat IS NULL OR p.gps_lon IS NULL)');
  if (f.orientation !== undefined) where.push(ORIENTATION[f.orientation]!);
  if (f.formats && f.formats.length > 0) {
    where.push(`lower(p.format) IN (${placeholders(f.formats.length)})`);
    params.push(...f.formats.map((x) => x.toLowerCase().replace(/^jpg$/, 'jpeg')));
  }
  if (f.minRating !== undefined) {
    where.push('p.rating >= ?');
    params.push(f.minRating);
  }
  // Faces of the active face pack good enough to tell who (faces/cluster.ts, MIN_QUALITY).
  const ofPhoto = `f.hash = p.hash AND f.quality >= ${FACE_MIN_QUALITY} AND f.model = (SELECT value FROM settings WHERE key = 'model.face')`;
  for (const person of f.people ?? []) {
    where.push('p.hash IN (SELECT hash FROM faces WHERE person_id = ?)');
    params.push(person);
  }
  for (const person of f.notPeople ?? []) {
    where.push('p.hash NOT IN (SELECT hash FROM faces WHERE person_id = ?)');
    params.push(person);
  }
  if (f.peopleCount !== undefined) {
    where.push(`(SELECT count(*) FROM faces f WHERE ${ofPhoto}) = ?`);
    params.push(f.peopleCount);
  }
  if (f.onlyPeople && f.people && f.people.length > 0) {
    where.push(`NOT EXISTS (SELECT 1 FROM faces f WHERE ${ofPhoto} AND (f.person_id IS NULL OR f.person_id NOT IN (${placeholders(f.people.length)})))`);
    params.push(...f.people);
  }
  // A place by its own name, its region's, its country's, or the country's code (places.ts folds the keys).
  const inPlace = `p.id IN (SELECT pp.photo_id FROM photo_places pp JOIN places pl ON pl.id = pp.place_id
    WHERE ? IN (pl.name_key, pl.region_key, pl.country_key, lower(pl.country_code)))`;
  for (const place of f.places ?? []) {
    where.push(inPlace);
    params.push(placeKey(place));
  }
  for (const place of f.notPlaces ?? []) {
    where.push(`NOT ${inPlace}`);
    params.push(placeKey(place));
  }
  // Text read in the picture (folded, as texts.ts stores it), by any OCR model. Spaces do not
  // count: the recogniser drops some ("HOTELAURORA" on a sign that says HOTEL AURORA).
  for (const t of f.texts ?? []) {
    where.push(`p.hash IN (SELECT hash FROM text_scans WHERE instr(replace(text_key, ' ', ''), ?) > 0)`);
    params.push(placeKey(t).replace(/ /g, ''));
  }
  if (f.placeIds && f.placeIds.length > 0) {
    where.push(`p.id IN (SELECT photo_id FROM photo_places WHERE place_id IN (${placeholders(f.placeIds.length)}))`);
    params.push(...f.placeIds);
  }
  if (f.area) {
    where.push('p.gps_lat BETWEEN ? AND ?');
    params.push(f.area.south, f.area.north);
    // West east of east: the box crosses the antimeridian.
    where.push(f.area.west <= f.area.east ? 'p.gps_lon BETWEEN ? AND ?' : '(p.gps_lon >= ? OR p.gps_lon <= ?)');
    params.push(f.area.west, f.area.east);
  }
  for (const k of f.keywords ?? []) {
    where.push('p.id IN (SELECT photo_id FROM photo_keywords WHERE keyword = ?)');
    params.push(k.trim());
  }
  if (f.labels && f.labels.length > 0) {
    where.push(`lower(p.label) IN (${placeholders(f.labels.length)})`);
    params.push(...f.labels.map((l) => l.toLowerCase()));
  }
  return { where: where.join(' AND '), params };
}

export function hasFilters(f: SearchFilters = {}): boolean {
  return Object.values(f).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0) && v !== '');
}

/** A page of photos and how many there are in all. */
export interface Page {
  readonly rows: PhotoRow[];
  readonly total: number;
}

export interface Eligible {
  readonly photoId: number;
  readonly contentId: number;
}

const json = (ids: Iterable<number>): string => JSON.stringify([...ids]);

export class LibraryQueries extends Repo {
  /** Changes whenever this connection or another one has written to the database. */
  version(): string {
    const t = this.one<{ t: number }>('SELECT total_changes() AS t')!.t;
    return `${t}:${String(this.db.pragma('data_version', { simple: true }))}`;
  }

  /** Photos passing the filters that have a GPS, most recent first, at most `limit`. */
  located(f: SearchFilters, limit: number): { id: number; lat: number; lon: number }[] {
    const { where, params } = filterSql(f);
    return this.all(`SELECT p.id, p.gps_lat AS lat, p.gps_lon AS lon FROM photos p
      WHERE ${where} AND p.gps_lat IS NOT NULL AND p.gps_lon IS NOT NULL ORDER BY ${BROWSE_ORDER.newest} LIMIT ?`, ...params, limit);
  }

  /** Indexed photos passing the filters, with their content ids (the index's items). */
  eligible(f: SearchFilters = {}): Eligible[] {
    const { where, params } = filterSql(f);
    return this.all<Eligible>(`SELECT p.id AS photoId, c.id AS contentId FROM photos p JOIN contents c ON c.hash = p.hash WHERE ${where}`, ...params);
  }

  /** Indexed photos with any of these keywords (case-insensitive, whole keywords). */
  withKeywords(keywords: readonly string[]): number[] {
    if (keywords.length === 0) return [];
    return this.all<{ id: number }>(`SELECT DISTINCT p.id FROM photo_keywords k JOIN photos p ON p.id = k.photo_id
      WHERE k.keyword IN (SELECT value FROM json_each(?)) AND p.state = 'ok' AND p.hash IS NOT NULL ORDER BY p.id`, JSON.stringify(keywords))
      .map((r) => r.id);
  }

  /** Of these photo ids, those passing the filters. */
  passing(ids: readonly number[], f: SearchFilters = {}): number[] {
    if (ids.length === 0) return [];
    const { where, params } = filterSql(f);
    return this.all<{ id: number }>(`SELECT p.id FROM json_each(?) j CROSS JOIN photos p ON p.id = j.value WHERE ${where} ORDER BY p.id`, json(ids), ...params)
      .map((r) => r.id);
  }

  /** The filtered library by date, a page of it, and how many photos it has. */
  browse(f: SearchFilters | undefined, order: keyof typeof BROWSE_ORDER, limit: number, offset: number): Page {
    const { where, params } = filterSql(f);
    const total = this.one<{ n: number }>(`SELECT count(*) AS n FROM photos p WHERE ${where}`, ...params)!.n;
    const rows = this.all<PhotoRow>(`SELECT p.* FROM photos p WHERE ${where} ORDER BY ${BROWSE_ORDER[order]} LIMIT ? OFFSET ?`, ...params, limit, offset);
    return { rows, total };
  }

  /** Photos of these contents passing the filters, by id. */
  photosOfContents(items: readonly number[], f: SearchFilters | undefined): PhotoWithContent[] {
    const { where, params } = filterSql(f);
    // CROSS JOIN fixes the join order (SQLite's rule): from the wanted ids out, never a scan of photos.
    return this.all<PhotoWithContent>(
      `SELECT p.*, c.id AS content_id FROM json_each(?) j CROSS JOIN contents c ON c.id = j.value CROSS JOIN photos p ON p.hash = c.hash
       WHERE ${where} ORDER BY p.id`, json(items), ...params);
  }

  /** How many photos of these contents pass the filters. */
  countPhotosOfContents(items: readonly number[], f: SearchFilters | undefined): number {
    const { where, params } = filterSql(f);
    return this.one<{ n: number }>(
      `SELECT count(*) AS n FROM json_each(?) j CROSS JOIN contents c ON c.id = j.value CROSS JOIN photos p ON p.hash = c.hash WHERE ${where}`,
      json(items), ...params)!.n;
  }

  /** These photos with their content ids. */
  photosWithContent(photoIds: Iterable<number>): PhotoWithContent[] {
    return this.all<PhotoWithContent>('SELECT p.*, c.id AS content_id FROM json_each(?) j CROSS JOIN photos p ON p.id = j.value JOIN contents c ON c.hash = p.hash', json(photoIds));
  }

  /** The content id of each photo (one per photo that has one). */
  contentsOfPhotos(photoIds: Iterable<number>): number[] {
    return this.all<{ id: number }>('SELECT c.id FROM json_each(?) j CROSS JOIN photos p ON p.id = j.value JOIN contents c ON c.hash = p.hash', json(photoIds))
      .map((r) => r.id);
  }

  /** Every photo passing the filters with its content id, by id. */
  filteredWithContent(f: SearchFilters | undefined): PhotoWithContent[] {
    const { where, params } = filterSql(f);
    return this.all<PhotoWithContent>(`SELECT p.*, c.id AS content_id FROM photos p JOIN contents c ON c.hash = p.hash WHERE ${where} ORDER BY p.id`, ...params);
  }

  /** Date and camera of each indexed content (its first photo's), for telling bursts from duplicates. */
  captureInfo(): Map<number, { takenAtMs: number | null; camera: string | null }> {
    const meta = new Map<number, { takenAtMs: number | null; camera: string | null }>();
    const rows = this.iterate<{ id: number; taken_at_ms: number | null; camera_make: string | null; camera_model: string | null }>(
      `SELECT c.id, p.taken_at_ms, p.camera_make, p.camera_model FROM photos p JOIN contents c ON c.hash = p.hash WHERE p.state = 'ok' ORDER BY p.id`);
    for (const r of rows) {
      if (meta.has(r.id)) continue;
      meta.set(r.id, { takenAtMs: r.taken_at_ms, camera: r.camera_make || r.camera_model ? `${r.camera_make ?? ''} ${r.camera_model ?? ''}` : null });
    }
    return meta;
  }
}
