/**
 * Search filters as SQL over the photos table: which indexed photos a query may return.
 */
import type { SearchFilters } from '../contract/api.js';
import type { Db } from '../db/database.js';

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

function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** The filters as a WHERE clause; indexed photos only (state ok, with a content hash). */
/** ORDER BY clauses of a browse; each matches an index of migration 5 term for term. */
export const BROWSE_ORDER = {
  newest: 'p.taken_at_ms IS NULL, p.taken_at_ms DESC, p.id DESC',
  oldest: 'p.taken_at_ms IS NULL, p.taken_at_ms ASC, p.id ASC',
} as const;

export function filterSql(f: SearchFilters = {}): SqlFilter {
  // Unary + keeps SQLite from driving a join through the state index (it would scan every
  // indexed photo per candidate); joins come in by id or hash.
  const where = [`+p.state = 'ok'`, '+p.hash IS NOT NULL'];
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
  return { where: where.join(' AND '), params };
}

export function hasFilters(f: SearchFilters = {}): boolean {
  return Object.values(f).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0) && v !== '');
}

export interface Eligible {
  readonly photoId: number;
  readonly contentId: number;
}

/** Indexed photos passing the filters, with their content ids (the index's items). */
export function eligiblePhotos(db: Db, f: SearchFilters = {}): Eligible[] {
  const { where, params } = filterSql(f);
  return db.prepare(
    `SELECT p.id AS photoId, c.id AS contentId FROM photos p JOIN contents c ON c.hash = p.hash WHERE ${where}`,
  ).all(...params) as Eligible[];
}

/**
 * Every indexed photo's path inside its library folder, lower-cased, for matching file and folder
 * names ("IMG_2041", "Lisbon 2019") against what the user typed.
 */
export function relativeNames(db: Db): { id: number; name: string }[] {
  return db.prepare(
    `SELECT p.id, lower(substr(p.path, length(f.path) + 1)) AS name FROM photos p JOIN folders f ON f.id = p.folder_id
     WHERE p.state = 'ok' AND p.hash IS NOT NULL ORDER BY p.id`,
  ).all() as { id: number; name: string }[];
}

/** Of these photo ids, those passing the filters. */
export function passing(db: Db, ids: readonly number[], f: SearchFilters = {}): number[] {
  if (ids.length === 0) return [];
  const { where, params } = filterSql(f);
  return (db.prepare(`SELECT p.id FROM json_each(?) j CROSS JOIN photos p ON p.id = j.value WHERE ${where} ORDER BY p.id`)
    .all(JSON.stringify(ids), ...params) as { id: number }[]).map((r) => r.id);
}
