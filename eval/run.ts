/**
 * `npm run eval -- --dataset KIND --dir PATH [--model NAME|DIR] [--index exact|ivfpq]`: indexes a
 * dataset with the real engine in a throw-away library and prints its metrics with the index's
 * recall against exact search, indexing throughput and query latency.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { deviceChoices } from '../main/contract/devices.js';
import type { Device } from '../main/contract/api.js';
import { DATASET_KINDS, loadDataset } from './datasets/index.js';
import { ATTACK_FAMILIES, type AttackFamily } from './datasets/copydays.js';
import { evaluateCopydays, formatCopydays } from './copydays.js';
import { evaluateLocalisation, formatLocalisation } from './localisation.js';
import { evaluate, type EvalReport, type IndexChoice } from './harness.js';
import { errorMessage } from '../main/util/errors.js';

function whole(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

/** Kinds built from any folder of photos rather than read from a published layout. */
const GENERATED_KINDS = ['copydays', 'localisation'] as const;

function families(v: string): AttackFamily[] {
  const list = v.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = list.filter((x) => !(ATTACK_FAMILIES as readonly string[]).includes(x));
  if (bad.length > 0 || list.length === 0) throw new InvalidArgumentError(`expected a comma-separated list of: ${ATTACK_FAMILIES.join(', ')}`);
  return list as AttackFamily[];
}

type Adapt = 'none' | 'views' | 'codes';

function adaptList(v: string): Adapt[] {
  const list = v.split(',').map((x) => x.trim()).filter(Boolean);
  if (list.length === 0 || list.some((x) => x !== 'none' && x !== 'views' && x !== 'codes')) {
    throw new InvalidArgumentError('expected none, views or codes, comma-separated');
  }
  return list as Adapt[];
}

function levelList(v: string): number[] {
  const list = v.split(',').map((x) => Number(x.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 6)) throw new InvalidArgumentError('expected levels 1–6, comma-separated');
  return list;
}

function count(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

const fmt = (v: number, digits = 4): string => (Number.isNaN(v) ? 'n/a' : v.toFixed(digits));

export function formatReport(r: EvalReport): string {
  const lines = [
    `dataset   ${r.dataset}${r.missing ? ` (${r.missing} listed in the ground truth but not found)` : ''}`,
    `model     ${r.model.name} (${r.model.kind}, space ${r.model.space}) on ${r.device}`,
    `index     ${r.index.structure}${r.index.choice === 'auto' ? '' : ` (--index ${r.index.choice})`}`,
    '',
  ];
  const rows: [string, string, string][] = [['metric', 'value', 'over'], ...r.metrics.map((m): [string, string, string] => [m.name, fmt(m.value), String(m.n)])];
  rows.push([`index recall@${r.indexRecall.k} vs exact`, fmt(r.indexRecall.value), String(r.indexRecall.queries)]);
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  for (const [a, b, c] of rows) lines.push(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
  lines.push('');
  const ix = r.indexing;
  lines.push(`indexing  ${ix.pictures} pictures${ix.failed ? ` (${ix.failed} failed)` : ''} in ${ix.seconds.toFixed(1)} s: ${ix.perSecond.toFixed(1)} pictures/s end to end, ${fmt(ix.embedPerSecond, 1)}/s embedding`);
  lines.push(`latency   ${r.latency.what}: p50 ${fmt(r.latency.p50, 1)} ms, p99 ${fmt(r.latency.p99, 1)} ms over ${r.latency.queries} queries`);
  return lines.join('\n');
}

export async function main(
  argv: readonly string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const program = new Command('eval')
    .description('measure retrieval quality on a standard dataset with the real engine')
    .addOption(new Option('--dataset <kind>', 'dataset layout').choices([...DATASET_KINDS, ...GENERATED_KINDS]).makeOptionMandatory())
    .requiredOption('--dir <path>', 'the dataset folder (pictures, and ground truth unless --gt/--captions)')
    .requiredOption('--model <name>', 'a model pack installed in the library, or a pack folder')
    .addOption(
      new Option('--index <kind>', "exact: never train IVF-PQ; ivfpq: train it at any size; auto: the app's rule")
        .choices(['auto', 'exact', 'ivfpq'])
        .default('auto'),
    )
    .option('--library <dir>', 'the library whose installed packs --model names (default: LOUPE_HOME or the app-data folder)')
    .option('--gt <path>', 'ground truth outside the folder: Oxford/Paris *_query.txt folder, or a gnd_*.pkl')
    .option('--captions <file>', 'caption file (default: found in the folder)')
    .option('--split <name>', 'Karpathy split to use (default: test)')
    .option('--taxonomy <name>', 'zero-shot templates from this taxonomy (default: imagenet)')
    .option('--queries <n>', 'at most this many queries (an even sample)', whole)
    .option('--no-expand', 'no query expansion for same-object queries')
    .option('--diffusion', 'diffusion re-ranking')
    .addOption(new Option('--device <device>', 'where models run').choices(deviceChoices()))
    .option('--threads <n>', 'onnxruntime threads per model', whole)
    .option('--work <dir>', 'where the throw-away library goes (default: the temp folder)')
    .option('--keep', 'keep the throw-away library')
    .option('--json', 'print the report as JSON')
    .option('--clip <name>', 'copydays: also a CLIP pack, for the "similar" column')
    .option('--distractors <n>', 'copydays: generated distractors added to the photos (default 100)', count)
    .option('--families <list>', `copydays: only these attack families (${ATTACK_FAMILIES.join(',')})`, families)
    .option('--originals <n>', 'copydays: at most this many photos as originals (an even sample)', whole)
    .option('--adapt <list>', 'copydays, localisation: projections adapted to the library to compare (none,views,codes)', adaptList)
    .option('--marks <n>', 'copydays: attacked copies per marked original in the confirmations phase (default 3; 0 skips it)', count)
    .option('--seed <n>', 'copydays, localisation: seed of the attacks, distractors and pastes', count)
    .option('--objects <file>', 'localisation: JSON list of {name, image, box: [x1, y1, x2, y2]} to paste (default: the shared photos\' dog, eagle, cup)')
    .option('--scenes <n>', 'localisation: at most this many scenes per object', whole)
    .option('--levels <list>', 'localisation: R-MAC levels of the region schemes compared (default 3,4,5)', levelList)
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err });
  try {
    program.parse(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  const o = program.opts<{
    dataset: string;
    dir: string;
    model: string;
    index: IndexChoice;
    library?: string;
    gt?: string;
    captions?: string;
    split?: string;
    taxonomy?: string;
    queries?: number;
    expand: boolean;
    diffusion?: boolean;
    device?: Device;
    threads?: number;
    work?: string;
    keep?: boolean;
    json?: boolean;
    clip?: string;
    distractors?: number;
    families?: AttackFamily[];
    originals?: number;
    adapt?: Adapt[];
    marks?: number;
    seed?: number;
    objects?: string;
    scenes?: number;
    levels?: number[];
  }>();
  try {
    const dir = resolve(o.dir);
    if (!existsSync(dir)) throw new Error(`${dir} does not exist`);
    const pack = (m: string): string => (existsSync(m) ? resolve(m) : m);
    if (o.dataset === 'copydays') {
      const report = await evaluateCopydays({
        dir, model: pack(o.model), clip: o.clip && pack(o.clip), library: o.library, work: o.work, keep: o.keep,
        device: o.device, threads: o.threads, distractors: o.distractors, seed: o.seed, families: o.families,
        maxOriginals: o.originals, adapt: o.adapt?.filter((a): a is Exclude<Adapt, 'none'> => a !== 'none'), marks: o.marks, log: (line) => err(`${line}\n`),
      });
      out(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatCopydays(report)}\n`);
      return 0;
    }
    if (o.dataset === 'localisation') {
      const report = await evaluateLocalisation({
        dir, model: pack(o.model), library: o.library, work: o.work, keep: o.keep, device: o.device, threads: o.threads,
        objects: o.objects && resolve(o.objects), seed: o.seed, maxScenes: o.scenes, levels: o.levels, adapt: o.adapt, log: (line) => err(`${line}\n`),
      });
      out(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatLocalisation(report)}\n`);
      return 0;
    }
    const dataset = loadDataset(o.dataset, dir, { gt: o.gt && resolve(o.gt), captions: o.captions && resolve(o.captions), split: o.split });
    err(`${dataset.title}\n`);
    const report = await evaluate({
      dataset,
      dir,
      model: existsSync(o.model) ? resolve(o.model) : o.model,
      library: o.library,
      index: o.index,
      work: o.work,
      keep: o.keep,
      device: o.device,
      threads: o.threads,
      maxQueries: o.queries,
      taxonomy: o.taxonomy,
      expand: o.expand ? undefined : false,
      diffusion: o.diffusion,
      log: (line) => err(`${line}\n`),
    });
    out(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    return 0;
  } catch (e) {
    err(`eval: ${errorMessage(e)}\n`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = await main(process.argv);
}
