/**
 * Text read in pictures (main/text/stage.ts): the lines of each picture by content hash, which
 * pictures were read, and all of a picture's text folded for matching a query's words.
 */
import { placeKey } from './places.js';
import { ScanRepo } from './scans.js';

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

export class TextsRepo extends ScanRepo {
  protected readonly scans = 'text_scans';

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

  /** Reads of pictures no photo has any more. */
  collectOrphans(): number {
    const gone = this.run('DELETE FROM text_lines WHERE hash NOT IN (SELECT hash FROM photos WHERE hash IS NOT NULL)').changes;
    this.run('DELETE FROM text_scans WHERE hash NOT IN (SELECT hash FROM photos WHERE hash IS NOT NULL)');
    return gone;
  }
}
