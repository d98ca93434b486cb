/**
 * Copies photos to a folder (album export). Each file is copied to a temporary name, fsynced and
 * renamed, so an interrupted export never leaves a half-written photo under a real name. Files
 * that cannot be copied (gone, unreadable) are reported and the rest goes on.
 */
import { constants, existsSync, mkdirSync } from 'node:fs';
import { copyFile, open, rename, rm } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

export interface ExportProgress {
  readonly done: number;
  readonly total: number;
  readonly current: string;
}

export interface ExportSummary {
  readonly copied: number;
  readonly skipped: number;
  readonly failed: readonly { readonly path: string; readonly error: string }[];
  readonly dest: string;
}

/** A name in `dir` not yet taken, from the file's own name: "beach.jpg", then "beach (2).jpg", … */
export function freeName(dir: string, name: string, taken: Set<string>): string {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? name : `${stem} (${i})${ext}`;
    if (!taken.has(candidate.toLowerCase()) && !existsSync(join(dir, candidate))) {
      taken.add(candidate.toLowerCase());
      return candidate;
    }
  }
}

export async function exportFiles(
  paths: readonly string[],
  dest: string,
  opts: { onProgress?: (p: ExportProgress) => void; signal?: AbortSignal; prefixOrder?: boolean } = {},
): Promise<ExportSummary> {
  mkdirSync(dest, { recursive: true });
  const taken = new Set<string>();
  const failed: { path: string; error: string }[] = [];
  let copied = 0;
  const width = String(paths.length).length;
  for (const [i, src] of paths.entries()) {
    if (opts.signal?.aborted) break;
    // With prefixOrder the album's order survives in a file browser sorted by name.
    const wanted = opts.prefixOrder ? `${String(i + 1).padStart(width, '0')} ${basename(src)}` : basename(src);
    const name = freeName(dest, wanted, taken);
    const tmp = join(dest, `.${name}.loupe-tmp`);
    try {
      await copyFile(src, tmp, constants.COPYFILE_EXCL);
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(dest, name));
      copied++;
    } catch (err) {
      await rm(tmp, { force: true });
      failed.push({ path: src, error: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file is gone' : (err as Error).message });
    }
    opts.onProgress?.({ done: i + 1, total: paths.length, current: src });
  }
  return { copied, skipped: paths.length - copied - failed.length, failed, dest };
}
