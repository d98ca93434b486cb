import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { bytesToUnicode } from '../../main/encoders/clip-tokenizer.js';
import { CNN_TINY, VIT_TINY, writeClipPack, writeCnnPack } from '../../models/synthetic.js';

export const SHARED_MERGES = fileURLToPath(new URL('../../../shared/data/clip/bpe_simple_vocab_16e6.txt.gz', import.meta.url));

/**
 * The real CLIP merges when ../shared is present; otherwise a synthetic list of the same length
 * (pairs of byte symbols), so pack tests run anywhere. Tokenizer correctness is tested separately.
 */
export function mergesText(): string {
  if (existsSync(SHARED_MERGES)) return gunzipSync(readFileSync(SHARED_MERGES)).toString('utf8');
  const { order } = bytesToUnicode();
  const lines = ['#version: 0.2'];
  for (const a of order) for (const b of order) if (lines.length <= 48894) lines.push(`${a} ${b}`);
  return lines.join('\n') + '\n';
}

/** Writes tiny CLIP and CNN pack folders (Hugging Face layout) under `dir`; returns their paths. */
export function writeTinyPacks(dir: string, seed = 1): { clip: string; cnn: string } {
  const clip = join(dir, `tiny-clip-${seed}`);
  const cnn = join(dir, `tiny-cnn-${seed}`);
  writeClipPack(clip, VIT_TINY, seed, mergesText());
  writeCnnPack(cnn, CNN_TINY, seed + 100);
  return { clip, cnn };
}
