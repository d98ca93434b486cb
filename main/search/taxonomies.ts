/**
 * Zero-shot taxonomies (resources/taxonomies/*.json): named lists of classes with the prompt
 * templates that turn a class into sentences.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { TaxonomyInfo } from '../contract/api.js';
import { UserError } from '../contract/errors.js';

const TaxonomySchema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string(),
  classes: z.array(z.string().min(1)).min(1),
  templates: z.array(z.string().includes('{}')).min(1),
  source: z.string(),
});
export type Taxonomy = z.infer<typeof TaxonomySchema>;

export function taxonomyDir(): string {
  for (const rel of ['../../resources/taxonomies/', '../../../resources/taxonomies/']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('resources/taxonomies is missing from this installation');
}

const cache = new Map<string, Taxonomy>();

export function loadTaxonomy(name: string, dir = taxonomyDir()): Taxonomy {
  const key = `${dir}\0${name}`;
  let t = cache.get(key);
  if (!t) {
    if (!/^[a-z0-9-]+$/.test(name)) throw new UserError(`no taxonomy named ${JSON.stringify(name)}`);
    const file = `${dir}/${name}.json`;
    if (!existsSync(file)) throw new UserError(`no taxonomy named ${name} (have: ${listTaxonomies(dir).map((x) => x.name).join(', ')})`);
    t = TaxonomySchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    cache.set(key, t);
  }
  return t;
}

export function listTaxonomies(dir = taxonomyDir()): TaxonomyInfo[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => {
    const t = loadTaxonomy(f.slice(0, -5), dir);
    return { name: t.name, title: t.title, classes: t.classes.length };
  });
}

/** Finds a class by name (case- and punctuation-insensitive), in one taxonomy or in all of them. */
export function findClass(
  name: string,
  taxonomy: string | null,
  dir = taxonomyDir(),
): { taxonomy: string; index: number; name: string } | null {
  const norm = (s: string): string =>
    s
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, ' ')
      .trim();
  const want = norm(name);
  const known = listTaxonomies(dir).map((t) => t.name);
  // An unknown taxonomy has no such class (a user's typo, never an error of Loupe's).
  const names = taxonomy ? known.filter((t) => t === taxonomy) : known;
  for (const tn of names) {
    const t = loadTaxonomy(tn, dir);
    const index = t.classes.findIndex((c) => norm(c) === want);
    if (index >= 0) return { taxonomy: tn, index, name: t.classes[index]! };
  }
  return null;
}
