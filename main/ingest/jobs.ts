/** Indexing runs as job records: one process indexes a library at a time; a run that died is noticed. */
import { UserError } from '../contract/errors.js';
import type { Repos } from '../db/repos/index.js';

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

/**
 * Starts a job record. A 'running' job whose process is gone (killed, crashed, power cut) is
 * marked 'interrupted'; its work is still pending in the photos table and this job takes it up.
 */
export function startJob(repos: Repos, kind: string, total: number, now: number = Date.now()): number {
  const { jobs } = repos;
  return repos.transaction(() => {
    for (const j of jobs.running()) {
      if (j.pid !== process.pid && alive(j.pid)) throw new LibraryBusyError(j.pid);
      jobs.interrupt(j.id, now, j.pid === process.pid ? 'superseded' : `process ${j.pid} stopped before finishing`);
    }
    return jobs.insert(kind, process.pid, now, total);
  });
}
