import { readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { isSupportedName } from '../../main/contract/formats.js';

/** Files under a folder, as '/'-separated paths relative to it, sorted; hidden entries are skipped. */
function walkFiles(dir: string, depth = Number.POSITIVE_INFINITY): string[] {
  const out: string[] = [];
  const walk = (rel: string, left: number): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const key = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && left > 0) walk(key, left - 1);
      else if (e.isFile()) out.push(key);
    }
  };
  walk('', depth);
  return out.sort();
}

/** Every picture under a folder that the engine would index, by its key (relative path). */
export function listImages(dir: string): string[] {
  return walkFiles(dir).filter((k) => isSupportedName(k));
}

/** Files (absolute paths) a few levels under a folder whose name matches: ground truth and caption files. */
export function findFiles(dir: string, match: (name: string) => boolean, depth = 3): string[] {
  return walkFiles(dir, depth).filter((k) => match(basename(k))).map((k) => join(dir, ...k.split('/')));
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

/** At most `max` items, evenly spread over the list (all of them without a max): a fixed sample for a quick run. */
export function evenSample<T>(items: readonly T[], max: number | undefined): readonly T[] {
  if (!max || items.length <= max) return items;
  return Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)]!);
}
