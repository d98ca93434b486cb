/**
 * Text read in pictures (main/text/stage.ts): the lines of each picture by content hash, which
 * pictures were read, and all of a picture's text folded for matching a query's words.
 */
import { placeKey } from './places.js';
import { Repo } from './repo.js';

export type Quad = readonly (readonly [number, number])[];

export interface NewLine {
  readonly text: string;
  readonly confidence: number;
  readonly quad: Quad;
}

export interface LineRow extends NewLine {
  readonly id: number;
}

/** Lower case, accents off, one space between words: how text is matched. */
export const textKey = placeKey;

export class TextsRepo extends Repo {
  /** Indexed pictures the OCR models have not read yet, in hash order after `after`. */
  todo(model: string, after: string, limit: number): { hash: string }[] {
    return this.all(`SELECT DISTINCT p.hash FROM photos p WHERE p.state = 'ok' AND p.hash IS NOT NULL AND p.hash > ?
      AND NOT EXISTS (SELECT 1 FROM text_scans s WHERE s.hash = p.hash AND s.model = ?) ORDER BY p.hash LIMIT ?`, after, model, limit);
  }

  countTodo(model: string): number {
    return this.one<{ n: number }>(`SELECT count(DISTINCT p.hash) AS n FROM photos p WHERE p.state = 'ok' AND p.hash IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM text_scans s WHERE s.hash = p.hash AND s.model = ?)`, model)!.n;
  }

  /** A picture's lines as the models read them (replacing any), and that it was read. */
  put(model: string, hash: string, lines: readonly NewLine[], now: number): void {
    this.transaction(() => {
      this.run('DELETE FROM text_lines WHERE hash = ? AND model = ?', hash, model);
      lines.forEach((l, i) => this.run('INSERT INTO text_lines (hash, model, idx, text, confidence, quad) VALUES (?, ?, ?, ?, ?, ?)',
        hash, model, i, l.text, l.confidence, JSON.stringify(l.quad)));
      this.run('INSERT OR REPLACE INTO text_scans (hash, model, lines, text_key, error, scanned_at) VALUES (?, ?, ?, ?, NULL, ?)',
        hash, model, lines.length, textKey(lines.map((l) => l.text).join(' ')), now);
    });
  }

  recordFailure(model: string, hash: string, error: string, now: number): void {
    this.run('INSERT OR REPLACE INTO text_scans (hash, model, lines, text_key, error, scanned_at) VALUES (?, ?, 0, \'\', ?, ?)', hash, model, error, now);
  }

  lines(hash: string, model: string): LineRow[] {
    return this.all<{ id: number; text: string; confidence: number; quad: string }>(
      'SELECT id, text, confidence, quad FROM text_lines WHERE hash = ? AND model = ? ORDER BY idx', hash, model)
      .map((r) => ({ id: r.id, text: r.text, confidence: r.confidence, quad: JSON.parse(r.quad) as Quad }));
  }

  /** Pictures read, and those with text, for the status. */
  counts(model: string): { read: number; withText: number; failed: number } {
    return this.one<{ read: number; withText: number; failed: number }>(`SELECT count(*) AS read, coalesce(sum(lines > 0), 0) AS withText,
      coalesce(sum(error IS NOT NULL), 0) AS failed FROM text_scans WHERE model = ?`, model)!;
  }

  /** Reads of pictures no photo has any more. */
  collectOrphans(): number {
    const gone = this.run('DELETE FROM text_lines WHERE hash NOT IN (SELECT hash FROM photos WHERE hash IS NOT NULL)').changes;
    this.run('DELETE FROM text_scans WHERE hash NOT IN (SELECT hash FROM photos WHERE hash IS NOT NULL)');
    return gone;
  }
}
