/**
 * The text stage: every indexed picture is read once by the OCR models (by content hash: a moved
 * or copied photo is never read again), from its 1024-px thumbnail — a quick look first at 640 px,
 * which finds no text on most photos and ends there; otherwise the detector reads it at full size
 * and each line is recognised. Resumable: what was read is recorded with its lines, one
 * transaction per picture, so a stopped run carries on; a picture that fails is recorded with why.
 */
import type { TextSummary } from '../contract/api.js';
import type { Repos } from '../db/repos/index.js';
import { rgbPicture } from '../encoders/faces.js';
import type { TextLine, TextReader } from '../encoders/ocr.js';
import type { ThumbnailStore } from '../ingest/thumbnails.js';
import { errorMessage } from '../util/errors.js';

export interface TextStageContext {
  readonly repos: Repos;
  readonly thumbs: ThumbnailStore;
}

export type { TextSummary } from '../contract/api.js';

export interface TextStageOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

/** The preference that turns reading text off (it is on unless the user says no). */
export const READ_TEXT_SETTING = 'text.read';

/**
 * Reads every picture the models have not read yet; null when there is none (the models are
 * then not loaded at all), or when `load` gives no reader (it says why itself).
 */
export async function readText(
  ctx: TextStageContext, load: () => Promise<TextReader | null>, model: string, opts: TextStageOptions = {},
): Promise<TextSummary | null> {
  const started = Date.now();
  const { texts } = ctx.repos;
  texts.collectOrphans();
  const total = texts.countTodo(model);
  if (total === 0) return null;
  const reader = await load();
  if (!reader) return null;
  let pictures = 0;
  let withText = 0;
  let lines = 0;
  let failed = 0;
  let after = '';
  for (;;) {
    const page = texts.todo(model, after, 64);
    if (page.length === 0) break;
    for (const { hash } of page) {
      if (opts.signal?.aborted) return { pictures, withText, lines, failed, ms: Date.now() - started };
      // No thumbnail (yet): indexing makes it again, and the next pass reads it.
      if (!ctx.thumbs.hasFile(hash, 1024)) continue;
      let read: TextLine[];
      try {
        read = await reader.read(await rgbPicture(ctx.thumbs.pathFor(hash, 1024)));
      } catch (err) {
        texts.recordFailure(model, hash, errorMessage(err), Date.now());
        failed++;
        pictures++;
        continue;
      }
      texts.put(model, hash, read, Date.now());
      if (read.length > 0) withText++;
      lines += read.length;
      pictures++;
      opts.onProgress?.(pictures, total);
    }
    after = page[page.length - 1]!.hash;
  }
  return { pictures, withText, lines, failed, ms: Date.now() - started };
}
