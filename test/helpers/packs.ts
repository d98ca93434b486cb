import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
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
