import type { JobInfo, JobState } from '../contract/api.js';
import type { Db } from '../db/database.js';
import { UserError } from '../contract/errors.js';

interface JobRow {
  id: number; kind: string; state: JobState; pid: number; started_at: number; updated_at: number;
  finished_at: number | null; total: number; done: number; failed: number; message: string | null;
}

export class LibraryBusyError extends UserError {
  constructor(readonly pid: number) {
    super(`Another Loupe process (pid ${pid}) is indexing this library; wait for it or stop it.`, 409);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function toInfo(r: JobRow): JobInfo {
  return {
    id: r.id, kind: r.kind, state: r.state, startedAt: r.started_at, updatedAt: r.updated_at,
    finishedAt: r.finished_at, total: r.total, done: r.done, failed: r.failed, message: r.message,
  };
}

/**
 * Starts a job record. A 'running' job whose process is gone (killed, crashed, power cut) is
 * marked 'interrupted'; its work is still pending in the photos table and this job takes it up.
 */
export function startJob(db: Db, kind: string, total: number, now: number = Date.now()): number {
  return db.transaction(() => {
    const running = db.prepare(`SELECT * FROM jobs WHERE state = 'running'`).all() as JobRow[];
    for (const j of running) {
      if (j.pid !== process.pid && alive(j.pid)) throw new LibraryBusyError(j.pid);
      db.prepare(`UPDATE jobs SET state = 'interrupted', finished_at = ?, message = ? WHERE id = ?`)
        .run(now, j.pid === process.pid ? 'superseded' : `process ${j.pid} stopped before finishing`, j.id);
    }
    const info = db.prepare(`INSERT INTO jobs (kind, state, pid, started_at, updated_at, total) VALUES (?, 'running', ?, ?, ?, ?)`)
      .run(kind, process.pid, now, now, total);
    return Number(info.lastInsertRowid);
  })();
}

export function updateJob(db: Db, id: number, p: { total: number; done: number; failed: number }, now: number = Date.now()): void {
  db.prepare('UPDATE jobs SET total = ?, done = ?, failed = ?, updated_at = ? WHERE id = ?').run(p.total, p.done, p.failed, now, id);
}

export function finishJob(db: Db, id: number, state: Exclude<JobState, 'running'>, message: string | null, now: number = Date.now()): void {
  db.prepare('UPDATE jobs SET state = ?, finished_at = ?, updated_at = ?, message = ? WHERE id = ?').run(state, now, now, message, id);
}

export function lastJob(db: Db): JobInfo | null {
  const r = db.prepare('SELECT * FROM jobs ORDER BY id DESC LIMIT 1').get() as JobRow | undefined;
  return r ? toInfo(r) : null;
}
