import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { bytesToUnicode } from '../../main/encoders/clip-tokenizer.js';
import { CNN_TINY, VIT_TINY, writeClipPack, writeCnnPack } from '../../models/synthetic.js';

/** OpenAI's CLIP BPE merges (MIT), kept in the repository so tests need nothing beside the clone. */
export const CLIP_MERGES = fileURLToPath(new URL('../fixtures/clip/bpe_simple_vocab_16e6.txt.gz', import.meta.url));

/** The real CLIP merges, as the text a pack's tokenizer.json carries. */
export function mergesText(): string {
  return gunzipSync(readFileSync(CLIP_MERGES)).toString('utf8');
}

/** Writes tiny CLIP and CNN pack folders (Hugging Face layout) under `dir`; returns their paths. */
export function writeTinyPacks(dir: string, seed = 1): { clip: string; cnn: string } {
  const clip = join(dir, `tiny-clip-${seed}`);
  const cnn = join(dir, `tiny-cnn-${seed}`);
  writeClipPack(clip, VIT_TINY, seed, mergesText());
  writeCnnPack(cnn, CNN_TINY, seed + 100);
  return { clip, cnn };
}

/**
 * CLIP's tokenizer.json as Hugging Face's CLIP repositories ship it (openai/clip-vit-base-patch32):
 * NFC, whitespace runs to one space, lower case; CLIP's split pattern then byte-level; BPE with
 * `</w>` word ends over the real vocabulary and merges; <|startoftext|> … <|endoftext|>.
 */
export function clipTokenizerJson(): string {
  const merges = mergesText().split('\n').slice(1, 48895);
  const { order } = bytesToUnicode();
  const list = [...order, ...order.map((c) => `${c}</w>`), ...merges.map((l) => l.split(' ').join('')), '<|startoftext|>', '<|endoftext|>'];
  const vocab = Object.fromEntries(list.map((v, i) => [v, i]));
  return JSON.stringify({
    version: '1.0', truncation: null, padding: null,
    added_tokens: [49406, 49407].map((id) => ({ id, content: list[id], single_word: false, lstrip: false, rstrip: false, normalized: true, special: true })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" }, behavior: 'Removed', invert: true },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ] },
    post_processor: { type: 'RobertaProcessing', sep: ['<|endoftext|>', 49407], cls: ['<|startoftext|>', 49406], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: '<|endoftext|>', continuing_subword_prefix: '', end_of_word_suffix: '</w>', fuse_unk: false, byte_fallback: false, vocab, merges },
  });
}
