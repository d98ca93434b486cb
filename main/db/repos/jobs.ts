/** The jobs table: one row per indexing run, for status and for noticing a run that died. */
import type { JobInfo, JobState } from '../../contract/api.js';
import { Repo } from './repo.js';

export interface JobRow {
  readonly id: number;
  readonly kind: string;
  readonly state: JobState;
  readonly pid: number;
  readonly started_at: number;
  readonly updated_at: number;
  readonly finished_at: number | null;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly message: string | null;
}

function toInfo(r: JobRow): JobInfo {
  return {
    id: r.id, kind: r.kind, state: r.state, startedAt: r.started_at, updatedAt: r.updated_at,
    finishedAt: r.finished_at, total: r.total, done: r.done, failed: r.failed, message: r.message,
  };
}

export class JobsRepo extends Repo {
  running(): JobRow[] {
    return this.all<JobRow>(`SELECT * FROM jobs WHERE state = 'running'`);
  }

  interrupt(id: number, now: number, message: string): void {
    this.run(`UPDATE jobs SET state = 'interrupted', finished_at = ?, message = ? WHERE id = ?`, now, message, id);
  }

  insert(kind: string, pid: number, now: number, total: number): number {
    return this.run(`INSERT INTO jobs (kind, state, pid, started_at, updated_at, total) VALUES (?, 'running', ?, ?, ?, ?)`, kind, pid, now, now, total).lastId;
  }

  update(id: number, p: { total: number; done: number; failed: number }, now: number): void {
    this.run('UPDATE jobs SET total = ?, done = ?, failed = ?, updated_at = ? WHERE id = ?', p.total, p.done, p.failed, now, id);
  }

  finish(id: number, state: Exclude<JobState, 'running'>, message: string | null, now: number): void {
    this.run('UPDATE jobs SET state = ?, finished_at = ?, updated_at = ?, message = ? WHERE id = ?', state, now, now, message, id);
  }

  last(): JobInfo | null {
    // Thumbnail sweeps hold the lock as jobs too, but the last job the user sees is indexing's.
    const r = this.one<JobRow>(`SELECT * FROM jobs WHERE kind != 'gc' ORDER BY id DESC LIMIT 1`);
    return r ? toInfo(r) : null;
  }
}
