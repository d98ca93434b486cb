/** Matching the text read in a photo against what was searched (pure: the viewer and tests share it). */

/** Lower case, accents and spaces off: how a line read in a photo is matched to what was typed. */
const squash = (s: string): string => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, '');

/**
 * Whether a line of text read in a photo says what the search asked (`text:"…"` terms, or the
 * sentence, or one of its words of 3 letters or more), spaces ignored as the search ignores them.
 */
export function lineMatches(line: string, query: string): boolean {
  const hay = squash(line);
  if (hay === '') return false;
  const quoted = [...query.matchAll(/text:"([^"]+)"|text:(\S+)/gi)].map((m) => m[1] ?? m[2] ?? '');
  const plain = query.replace(/-?\w+:("[^"]*"|\S+)/g, ' ').trim();
  const terms = [...quoted, plain, ...plain.split(/\s+/)].map(squash).filter((t) => t.length >= 3);
  return terms.some((t) => hay.includes(t));
}
