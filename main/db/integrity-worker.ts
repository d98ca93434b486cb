/** Runs SQLite's quick_check on a read-only connection, off the main thread, and posts the problems found ([] when whole). */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { file } = workerData as { file: string };
let problems: string[];
try {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
  } finally {
    db.close();
  }
} catch (err) {
  problems = [err instanceof Error ? err.message : String(err)];
}
parentPort!.postMessage(problems);
