/** UKBench: ukbenchNNNNN.jpg in groups of four consecutive numbers (one object); every picture queries. */
import { basename, extname } from 'node:path';
import { listImages } from './files.js';
import { DatasetError, type GroupDataset } from './types.js';

const NAME = /^ukbench(\d+)$/i;

export function loadUkbench(dir: string): GroupDataset {
  const groupOf = new Map<string, string>();
  for (const key of listImages(dir)) {
    const m = NAME.exec(basename(key, extname(key)));
    if (m) groupOf.set(key, String(Math.floor(Number(m[1]) / 4)));
  }
  if (groupOf.size === 0) throw new DatasetError(`${dir} has no UKBench-style pictures (ukbenchNNNNN.jpg)`);
  const groups = new Set(groupOf.values()).size;
  return { kind: 'groups', title: `UKBench layout: ${groupOf.size} pictures in ${groups} groups`, images: [...groupOf.keys()], missing: [], groupOf, k: 4 };
}
