import Database from 'better-sqlite3';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { StorageError, UserError } from '../contract/errors.js';
import { MIGRATIONS, LATEST_VERSION, type Migration } from './migrations.js';
import type { Backups } from './safety.js';

export type Db = Database.Database;

export class SchemaTooNewError extends Error {
  constructor(readonly found: number, readonly supported: number) {
    super(`This library was written by a newer Loupe (schema ${found}; this version understands up to ${supported}). ` +
      'Update Loupe to open it.');
    this.name = 'SchemaTooNewError';
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies, in order and each in its own transaction, every migration above the current version up to `target`. */
export function migrate(db: Db, target: number = LATEST_VERSION, migrations: readonly Migration[] = MIGRATIONS, backups?: Backups): void {
  const current = schemaVersion(db);
  if (current > LATEST_VERSION) throw new SchemaTooNewError(current, LATEST_VERSION);
  // A copy of the library as it was, before its schema changes.
  if (backups && current > 0 && migrations.some((m) => m.version > current && m.version <= target)) backups.beforeMigration(db, current);
  for (const m of migrations) {
    if (m.version <= current || m.version > target) continue;
    // Only outside a transaction can foreign keys be switched off (SQLite's table-rebuild procedure).
    const fks = db.pragma('foreign_keys', { simple: true }) as number;
    if (m.rebuildsTables) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(m.sql);
        if (m.rebuildsTables && (db.pragma('foreign_key_check') as unknown[]).length > 0) {
          throw new Error(`migration ${m.version} would break references between tables; nothing was changed`);
        }
        db.pragma(`user_version = ${m.version}`);
      })();
    } finally {
      if (m.rebuildsTables) db.pragma(`foreign_keys = ${fks ? 'ON' : 'OFF'}`);
    }
  }
}

export interface OpenOptions {
  readonly readonly?: boolean;
  /** Schema version to migrate to; tests use it to build databases as earlier versions left them. */
  readonly targetVersion?: number;
  /** Where a copy is made before a migration (none: no copy). */
  readonly backups?: Backups;
}

export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  const db = new Database(file, { readonly: opts.readonly ?? false });
  try {
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL'); // commits are batched, so an fsync per commit is cheap and survives power loss
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    if (!opts.readonly) migrate(db, opts.targetVersion ?? LATEST_VERSION, MIGRATIONS, opts.backups);
    else if (schemaVersion(db) > LATEST_VERSION) throw new SchemaTooNewError(schemaVersion(db), LATEST_VERSION);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** A library's database as opened: read-write, or (on a read-only disk) a read-only copy. */
export interface LibraryDatabase {
  readonly db: Db;
  /** Null when writable; else the library folder, which is open read-only. */
  readonly readOnly: string | null;
  /** Closes the database (and deletes the temporary copy a read-only library was opened from). */
  close(): void;
}

/**
 * Why a folder could not be made: recursive mkdir reports a read-only disk as ENOENT, so the
 * nearest folder that exists is asked whether it can be written.
 */
function whyNot(path: string, err: unknown): unknown {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
    return err;
  } catch (denied) {
    return denied;
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens (creating when new) the database of a library folder. On a disk that cannot be written,
 * an existing library opens read-only: SQLite's write-ahead log needs files beside the database,
 * so it is read from a copy in the temporary folder; a new one cannot be made there.
 */
export function openLibraryDatabase(dir: string, backups: Backups): LibraryDatabase {
  const file = join(dir, 'loupe.db');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new StorageError(dir, whyNot(dir, err), 'Choose a library folder on a disk Loupe can write to (--library DIR, or LOUPE_HOME)');
  }
  if (writable(dir) || !existsSync(file)) {
    try {
      const db = openDatabase(file, { backups });
      return { db, readOnly: null, close: () => db.close() };
    } catch (err) {
      if (err instanceof SchemaTooNewError || existsSync(file) || writable(dir)) throw err;
      throw new StorageError(dir, err, 'Choose a library folder on a disk Loupe can write to (--library DIR, or LOUPE_HOME)');
    }
  }
  // A folder of its own: two apps may read the same library, and each deletes its copy on close.
  const copyDir = mkdtempSync(join(tmpdir(), 'loupe-read-only-'));
  const discard = (): void => rmSync(copyDir, { recursive: true, force: true });
  const copy = join(copyDir, 'loupe.db');
  let db: Db;
  try {
    copyFileSync(file, copy);
    for (const side of ['-wal', '-shm']) if (existsSync(file + side)) copyFileSync(file + side, copy + side);
    db = openDatabase(copy, { readonly: true });
  } catch (err) {
    discard();
    throw err;
  }
  const version = schemaVersion(db);
  if (version < LATEST_VERSION) {
    db.close();
    discard();
    throw new UserError(`the library at ${dir} is on a read-only disk and was written by an earlier Loupe (schema ${version}); ` +
      'copy it to a writable disk to open it (it is upgraded there)');
  }
  return { db, readOnly: dir, close: () => { db.close(); discard(); } };
}
