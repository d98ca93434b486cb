import { loadCaptions } from './captions.js';
import { loadClasses } from './classes.js';
import { loadHolidays } from './holidays.js';
import { loadOxford, loadRevisited } from './oxford.js';
import { DatasetError, type Dataset } from './types.js';
import { loadUkbench } from './ukbench.js';

export const DATASET_KINDS = ['holidays', 'oxford', 'paris', 'roxford', 'rparis', 'ukbench', 'captions', 'flickr8k', 'flickr30k', 'coco', 'classes'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

export interface LoadOptions {
  /** Ground truth, when not found inside the dataset folder: a folder of *_query.txt files or a gnd_*.pkl. */
  readonly gt?: string;
  readonly captions?: string;
  readonly split?: string;
}

export function loadDataset(kind: string, dir: string, opts: LoadOptions = {}): Dataset {
  switch (kind as DatasetKind) {
    case 'holidays': return loadHolidays(dir);
    case 'oxford': case 'paris': return loadOxford(dir, opts.gt);
    case 'roxford': case 'rparis': return loadRevisited(dir, opts.gt);
    case 'ukbench': return loadUkbench(dir);
    case 'captions': case 'flickr8k': case 'flickr30k': case 'coco': return loadCaptions(dir, opts);
    case 'classes': return loadClasses(dir);
    default: throw new DatasetError(`unknown dataset kind ${JSON.stringify(kind)} (one of: ${DATASET_KINDS.join(', ')})`);
  }
}
