/** One folder per class (CUB-200 images/, Oxford Flowers or Pets sorted by class, …). */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { listImages } from './files.js';
import { DatasetError, type ClassDataset } from './types.js';

/** "001.Black_footed_Albatross" → "Black footed Albatross". */
export function className(folder: string): string {
  return folder.replace(/^\d+[._\s-]+/, '').replace(/[_]+/g, ' ').trim();
}

export function loadClasses(dir: string): ClassDataset {
  const folders = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  const classes: string[] = [];
  const labelOf = new Map<string, number>();
  for (const folder of folders) {
    const keys = listImages(join(dir, folder));
    if (keys.length === 0) continue;
    const label = classes.push(className(folder)) - 1;
    for (const k of keys) labelOf.set(`${folder}/${k}`, label);
  }
  if (classes.length < 2) throw new DatasetError(`${dir} needs at least two class folders with pictures in them`);
  return { kind: 'classes', title: `class folders: ${labelOf.size} pictures in ${classes.length} classes`, images: [...labelOf.keys()], missing: [], classes, labelOf };
}
