/**
 * Keeping the one irreplaceable file safe. The database holds what only the user made (albums,
 * taught categories, the folders chosen, identities that survive moves); thumbnails, vectors and
 * index files are rebuilt from it and the photos. So: its integrity is checked at open, off the
 * main thread; rotated copies are made daily and before every migration; a copy can be made and
 * restored on demand.
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../contract/errors.js';
import { fsyncDirSync } from '../util/atomic.js';
import { errorMessage } from '../util/errors.js';
import { startModuleWorker } from '../util/workers.js';
import { LATEST_VERSION } from './migrations.js';
import type { Db } from './database.js';

export type BackupReason = 'daily' | 'manual' | 'pre-migration';

export interface BackupInfo {
  readonly path: string;
  readonly reason: BackupReason;
  readonly takenAt: number;
  readonly bytes: number;
}

/** How many copies of each kind are kept (manual ones are the user's: all kept). */
const KEEP: Readonly<Record<BackupReason, number>> = { daily: 7, 'pre-migration': 5, manual: Number.POSITIVE_INFINITY };
const NAME = /^loupe-(daily|manual|pre-migration)-(\d{8}T\d{6}Z)(?:-v\d+)?\.db$/;
const DAY = 24 * 3600 * 1000;

/** The library's database is damaged: which file, and what to do. */
export class DatabaseDamagedError extends UserError {
  constructor(readonly file: string, readonly problems: readonly string[], backups: string) {
    super(`the library's database ${file} is damaged (${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}). ` +
      `Your photos are untouched. Restore the newest copy with \`loupe restore FILE\` (copies are kept in ${backups}); ` +
      'thumbnails, vectors and index files are rebuilt from it', 503);
  }
}

const stamp = (t: number): string => new Date(t).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

function parseStamp(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s)!;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** Problems quick_check finds in a database file ([] when whole), checked in a worker thread. */
export function quickCheck(file: string): Promise<string[]> {
  const worker = startModuleWorker(import.meta.url, 'integrity-worker', { workerData: { file } });
  return new Promise((resolve) => {
    worker.once('message', (problems: string[]) => resolve(problems));
    worker.once('error', (err) => resolve([`the check could not run: ${errorMessage(err)}`]));
  });
}

/** The rotated copies of one library's database. */
export class Backups {
  constructor(readonly dir: string) {}

  list(): BackupInfo[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).flatMap((name) => {
      const m = NAME.exec(name);
      if (!m) return [];
      const path = join(this.dir, name);
      return [{ path, reason: m[1] as BackupReason, takenAt: parseStamp(m[2]!), bytes: statSync(path).size }];
    }).sort((a, b) => b.takenAt - a.takenAt || b.path.localeCompare(a.path));
  }

  /** Whether the newest daily copy is more than a day old (or there is none). */
  dailyDue(now = Date.now()): boolean {
    const last = this.list().find((b) => b.reason === 'daily');
    return !last || now - last.takenAt >= DAY;
  }

  private target(reason: BackupReason, now: number, version?: number): string {
    mkdirSync(this.dir, { recursive: true });
    return join(this.dir, `loupe-${reason}-${stamp(now)}${version === undefined ? '' : `-v${version}`}.db`);
  }

  /** An online copy of the open database (SQLite's backup API: writers are not held up), written new and renamed into place. */
  async create(db: Db, reason: BackupReason, dest?: string, now = Date.now()): Promise<string> {
    const target = dest ?? this.target(reason, now);
    const tmp = `${target}.tmp`;
    try {
      await db.backup(tmp);
      renameSync(tmp, target);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new UserError(`could not write a copy of the library's database to ${target}: ${errorMessage(err)}`, 507);
    }
    fsyncDirSync(this.dir);
    if (!dest) this.rotate(reason);
    return target;
  }

  /** A copy made before a migration changes the schema (synchronous: the migration waits for it). */
  beforeMigration(db: Db, version: number, now = Date.now()): string {
    const target = this.target('pre-migration', now, version);
    db.exec(`VACUUM INTO '${target.replace(/'/g, "''")}'`);
    this.rotate('pre-migration');
    return target;
  }

  private rotate(reason: BackupReason): void {
    for (const old of this.list().filter((b) => b.reason === reason).slice(KEEP[reason])) rmSync(old.path, { force: true });
  }
}

/**
 * Puts a copy back as the library's database. The copy is checked first (whole, and of a schema
 * this Loupe reads); the current file is kept beside it, never deleted; the vector index files
 * are removed, to be rebuilt from the restored vectors. The library must not be open.
 */
export function restoreDatabase(libraryDir: string, copy: string, now = Date.now()): { replacedBy: string; keptAs: string | null } {
  if (!existsSync(copy)) throw new UserError(`no such copy: ${copy}`);
  let version: number;
  try {
    const check = new Database(copy, { readonly: true, fileMustExist: true });
    try {
      const problems = (check.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).filter((r) => r !== 'ok');
      if (problems.length > 0) throw new UserError(`${copy} is damaged too (${problems.slice(0, 2).join('; ')}); choose another copy`);
      version = check.pragma('user_version', { simple: true }) as number;
    } finally {
      check.close();
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    if ((err as { code?: string }).code === 'SQLITE_CORRUPT') throw new UserError(`${copy} is damaged too (${errorMessage(err)}); choose another copy`);
    throw new UserError(`${copy} is not a Loupe library database (${errorMessage(err)})`);
  }
  if (version > LATEST_VERSION) throw new UserError(`${copy} was written by a newer Loupe (schema ${version}); update Loupe to restore it`);
  const file = join(libraryDir, 'loupe.db');
  let keptAs: string | null = null;
  if (existsSync(file)) {
    keptAs = `${file}.replaced-${stamp(now)}`;
    renameSync(file, keptAs);
  }
  for (const side of ['-wal', '-shm']) if (existsSync(file + side)) renameSync(file + side, `${keptAs ?? file}${side}`);
  const tmp = `${file}.restoring`;
  copyFileSync(copy, tmp);
  renameSync(tmp, file);
  fsyncDirSync(libraryDir);
  rmSync(join(libraryDir, 'index'), { recursive: true, force: true });
  return { replacedBy: basename(copy), keptAs };
}
