/**
 * What a stage that looks at every picture once per model (faces, text) shares: the indexed
 * pictures its scans table does not list yet for a model, in hash order (so a stopped pass
 * carries on after the last hash it saw), and how many.
 */
import { Repo } from './repo.js';

export abstract class ScanRepo extends Repo {
  /** The table recording which pictures each model has looked at (hash, model, …). */
  protected abstract readonly scans: 'face_scans' | 'text_scans';

  /** Indexed pictures the model has not looked at yet, in hash order after `after`. */
  todo(model: string, after: string, limit: number): { hash: string }[] {
    return this.all(`SELECT DISTINCT p.hash FROM photos p WHERE p.state = 'ok' AND p.hash IS NOT NULL AND p.hash > ?
      AND NOT EXISTS (SELECT 1 FROM ${this.scans} s WHERE s.hash = p.hash AND s.model = ?) ORDER BY p.hash LIMIT ?`, after, model, limit);
  }

  countTodo(model: string): number {
    return this.one<{ n: number }>(`SELECT count(DISTINCT p.hash) AS n FROM photos p WHERE p.state = 'ok' AND p.hash IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM ${this.scans} s WHERE s.hash = p.hash AND s.model = ?)`, model)!.n;
  }
}
