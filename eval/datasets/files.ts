import { readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.heic', '.heif', '.avif', '.gif']);

/** Every picture under a folder, as '/'-separated paths relative to it, sorted. Hidden entries are skipped. */
export function listImages(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const key = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(key);
      else if (e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(key);
    }
  };
  walk('');
  return out.sort();
}

/** Keys by file name without extension (ground truth names pictures that way). Later duplicates are ignored. */
export function byStem(keys: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const k of keys) {
    const stem = basename(k, extname(k));
    if (!m.has(stem)) m.set(stem, k);
  }
  return m;
}

/** Keys by file name with extension. */
export function byName(keys: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const k of keys) if (!m.has(basename(k))) m.set(basename(k), k);
  return m;
}

/** Finds files under a folder (recursively, hidden entries skipped) whose name matches. */
export function findFiles(dir: string, match: (name: string) => boolean, depth = 3): string[] {
  const out: string[] = [];
  const walk = (path: string, left: number): void => {
    for (const e of readdirSync(path, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(path, e.name);
      if (e.isDirectory() && left > 0) walk(p, left - 1);
      else if (e.isFile() && match(e.name)) out.push(p);
    }
  };
  walk(dir, depth);
  return out.sort();
}
