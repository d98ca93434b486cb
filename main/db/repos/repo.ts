/**
 * The base of every repository: SQL lives in repositories alone, and each statement is prepared
 * once per connection, on first use, and kept (statements built from filters are keyed by their
 * text, so each distinct shape is prepared once too).
 */
import type { Statement } from 'better-sqlite3';
import { ReadOnlyLibraryError } from '../../contract/errors.js';
import type { Db } from '../database.js';


export abstract class Repo {
  private readonly statements = new Map<string, Statement>();

  /** @param readOnly the library's folder when it is open read-only: every write is refused, naming it. */
  constructor(protected readonly db: Db, private readonly readOnly: string | null = null) {}

  /** Whether this repository may write (the library is not open read-only). */
  get writable(): boolean {
    return this.readOnly === null;
  }

  protected statement(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** The first row, typed as the repository declares it. */
  protected one<R>(sql: string, ...params: readonly unknown[]): R | undefined {
    return this.statement(sql).get(...params) as R | undefined;
  }

  protected all<R>(sql: string, ...params: readonly unknown[]): R[] {
    return this.statement(sql).all(...params) as R[];
  }

  protected iterate<R>(sql: string, ...params: readonly unknown[]): IterableIterator<R> {
    return this.statement(sql).iterate(...params) as IterableIterator<R>;
  }

  /** Runs a write; returns the rows changed and the last inserted id. */
  protected run(sql: string, ...params: readonly unknown[]): { changes: number; lastId: number } {
    if (this.readOnly !== null) throw new ReadOnlyLibraryError(this.readOnly);
    const r = this.statement(sql).run(...params);
    return { changes: r.changes, lastId: Number(r.lastInsertRowid) };
  }

  /** Runs `fn` in a transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
