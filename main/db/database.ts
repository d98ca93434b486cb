import Database from 'better-sqlite3';
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
