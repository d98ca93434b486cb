/**
 * Writes resources/taxonomies/*.json from the CLIP repository's zero-shot class names and prompt
 * templates (../shared/data/clip, MIT). Run once when the list changes:
 *   node --import tsx scripts/build-taxonomies.ts [path/to/shared/data/clip]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = process.argv[2] ?? join(here, '..', '..', 'shared', 'data', 'clip');
const out = join(here, '..', 'resources', 'taxonomies');

/** Python string list literal → strings (both quote styles, backslash escapes). */
function pyList(text: string): string[] {
  const items: string[] = [];
  const re = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(text); m; m = re.exec(text)) items.push((m[1] ?? m[2]!).replace(/\\(.)/g, '$1'));
  return items;
}

function section(md: string, title: string): { classes: string[]; templates: string[] } {
  const start = md.indexOf(`## ${title}\n`);
  if (start < 0) throw new Error(`no section ${title}`);
  const end = md.indexOf('\n## ', start + 4);
  const body = md.slice(start, end < 0 ? undefined : end);
  const list = (name: string): string[] => {
    const i = body.indexOf(`${name} = [`);
    if (i < 0) throw new Error(`${title}: no ${name}`);
    return pyList(body.slice(i, body.indexOf('\n]', i)));
  };
  return { classes: list('classes'), templates: list('templates') };
}

const md = readFileSync(join(src, 'zero-shot-prompts.md'), 'utf8');
const nb = JSON.parse(readFileSync(join(src, 'imagenet-prompts.ipynb'), 'utf8')) as { cells: { source: string[] | string }[] };
const cell = (pred: (s: string) => boolean): string => {
  const c = nb.cells.map((x) => (Array.isArray(x.source) ? x.source.join('') : x.source)).find(pred);
  if (!c) throw new Error('imagenet notebook cell not found');
  return c;
};
const imagenetClasses = pyList(cell((s) => s.startsWith('imagenet_classes = [')).split('imagenet_templates')[0]!);
// The 7 templates CLIP's authors selected by forward selection over their 80 (the notebook's
// own recommendation: better than all 80 for small models, and 11× cheaper to encode).
const selected = cell((s) => s.includes('sequential forward selection')).split('\n')
  .map((l) => /^\d+\. (.*\{\}.*)$/.exec(l.trim())?.[1]).filter((t): t is string => t !== undefined);

const SOURCE = 'github.com/openai/CLIP (MIT), data/prompts.md and notebooks/Prompt_Engineering_for_ImageNet.ipynb';
const taxonomies = [
  { name: 'imagenet', title: 'Everyday objects (ImageNet-1k)', ...{ classes: imagenetClasses, templates: selected } },
  { name: 'birds', title: 'Birds (Birdsnap)', ...section(md, 'Birdsnap') },
  { name: 'pets', title: 'Dog and cat breeds (Oxford Pets)', ...section(md, 'OxfordPets') },
  { name: 'flowers', title: 'Flowers (Flowers102)', ...section(md, 'Flowers102') },
  { name: 'food', title: 'Food (Food101)', ...section(md, 'Food101') },
  { name: 'cars', title: 'Cars (Stanford Cars)', ...section(md, 'StanfordCars') },
  { name: 'aircraft', title: 'Aircraft (FGVC Aircraft)', ...section(md, 'FGVCAircraft') },
  { name: 'scenes', title: 'Scenes (SUN397)', ...section(md, 'SUN397') },
];
for (const t of taxonomies) {
  if (t.classes.length === 0 || t.templates.length === 0 || t.templates.some((x) => !x.includes('{}'))) throw new Error(`${t.name}: bad lists`);
  writeFileSync(join(out, `${t.name}.json`), `${JSON.stringify({ ...t, source: SOURCE }, null, 1)}\n`);
  console.log(`${t.name}: ${t.classes.length} classes, ${t.templates.length} templates`);
}
