/**
 * A pack's sentence tokenizer, whichever family it is: CLIP's byte-level BPE (the hand-written
 * reference port in clip-tokenizer.ts: identical to Hugging Face's on CLIP's vocabulary and about
 * twice as fast, test/unit/text-tokenizer.test.ts), or any Hugging Face tokenizer.json through
 * @huggingface/tokenizers: SentencePiece Unigram (SigLIP, XLM-R, NLLB), SentencePiece BPE with byte
 * fallback (Gemma's, which SigLIP 2 uses), WordPiece (BERT-style towers).
 *
 * Every tokenizer gives a model's whole sequence (its special tokens included) truncated to the
 * context with its closing specials kept, and says how to pad it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ClipTokenizer, readTokenizerFile } from './clip-tokenizer.js';

/** How a pack's text tower wants its sequences (manifest.ts `text`). */
export interface TextSettings {
  /** The context the tower was trained with (CLIP 77, SigLIP 64). */
  readonly context: number;
  /**
   * 'longest': the batch's longest sequence (CLIP pools at its end token under causal attention,
   * XLM-R towers mask the padding), so a short query costs a fraction of the context;
   * 'max_length': always the full context (SigLIP pools the last position, padding included).
   */
  readonly padding: 'longest' | 'max_length';
  /** open_clip's `clean: canonicalize` (SigLIP): punctuation removed and lower-cased before tokenizing. */
  readonly canonicalize: boolean;
  /** Lower-cased before tokenizing (SigLIP 2 was trained on lower-cased text). */
  readonly lowercase: boolean;
}

export interface TextTokenizer {
  /** The sequence for one text: specials included, at most `context` ids. */
  encode(text: string, context: number): number[];
  /** The id padding is written with. */
  readonly padId: number;
  /** Which implementation runs it: the hand-written CLIP BPE port, or @huggingface/tokenizers on a tokenizer.json. */
  readonly kind: 'clip-bpe' | 'tokenizer.json';
}

/** Python's string.punctuation, as open_clip and Immich strip it for canonicalised towers. */
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** What the text goes through before its tokenizer: whitespace collapsed, then the family's cleaning. */
export function cleanForTower(text: string, s: Pick<TextSettings, 'canonicalize' | 'lowercase'>): string {
  let t = text.split(/\s+/u).filter((w) => w !== '').join(' ');
  if (s.canonicalize) t = t.replace(PUNCTUATION, '').toLowerCase();
  else if (s.lowercase) t = t.toLowerCase();
  return t;
}

class ClipBpeTokenizer implements TextTokenizer {
  readonly kind = 'clip-bpe';
  readonly padId = 0;
  constructor(private readonly bpe: ClipTokenizer) {}

  encode(text: string, context: number): number[] {
    const t = this.bpe.tokenize(text, context);
    return Array.from(t.subarray(0, t.indexOf(this.bpe.eot) + 1));
  }
}

type TokenizerJson = ConstructorParameters<typeof Tokenizer>[0];
type TokenizerConfig = ConstructorParameters<typeof Tokenizer>[1];

class HfTokenizer implements TextTokenizer {
  readonly kind = 'tokenizer.json';
  readonly padId: number;
  /** The specials the post-processor puts before and after a text (found by encoding one token). */
  private readonly head: number[];
  private readonly tail: number[];

  constructor(private readonly tok: Tokenizer, config: Record<string, unknown>) {
    const padToken = typeof config['pad_token'] === 'string' ? config['pad_token'] : null;
    const padId = padToken === null ? undefined : tok.token_to_id(padToken);
    this.padId = padId ?? tok.token_to_id('<pad>') ?? 0;
    const probe = 'x';
    const bare: number[] = tok.encode(probe, { add_special_tokens: false }).ids;
    const full: number[] = tok.encode(probe).ids;
    const at = full.findIndex((_: number, i: number) => bare.every((id: number, j: number) => full[i + j] === id));
    this.head = full.slice(0, Math.max(0, at));
    this.tail = at < 0 ? [] : full.slice(at + bare.length);
  }

  encode(text: string, context: number): number[] {
    const body: number[] = this.tok.encode(text, { add_special_tokens: false }).ids;
    const room = Math.max(0, context - this.head.length - this.tail.length);
    return [...this.head, ...body.slice(0, room), ...this.tail];
  }
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/**
 * CLIP's BPE keeps the hand-written port (a merges file, or a tokenizer.json whose model is
 * CLIP's BPE with its `</w>` word ends); everything else runs on @huggingface/tokenizers, with
 * tokenizer_config.json beside it where the pack has one (its pad token). The file is read once
 * (Gemma's is 17 MB).
 */
export function loadTextTokenizer(path: string, opts: { config?: string } = {}): TextTokenizer {
  const text = readTokenizerFile(path);
  if (!text.trimStart().startsWith('{')) return new ClipBpeTokenizer(new ClipTokenizer(text.split('\n')));
  const json = JSON.parse(text) as Record<string, unknown>;
  const model = json['model'] as { type?: unknown; end_of_word_suffix?: unknown } | undefined;
  if (model?.type === 'BPE' && model.end_of_word_suffix === '</w>') return new ClipBpeTokenizer(ClipTokenizer.fromJson(json, path));
  const configPath = opts.config ?? join(dirname(path), 'tokenizer_config.json');
  const config = existsSync(configPath) ? readJson(configPath) : {};
  const tok = new Tokenizer(json as TokenizerJson, config as TokenizerConfig);
  return new HfTokenizer(tok, config);
}

/** A batch's ids and mask laid out [n, len], padded as the settings say. */
export function padBatch(seqs: readonly number[][], s: TextSettings, padId: number): { ids: Int32Array; mask: Int32Array; len: number } {
  const len = s.padding === 'max_length' ? s.context : Math.max(1, ...seqs.map((q) => q.length));
  const ids = new Int32Array(seqs.length * len).fill(padId);
  const mask = new Int32Array(seqs.length * len);
  seqs.forEach((q, i) => {
    ids.set(q.slice(0, len), i * len);
    mask.fill(1, i * len, i * len + Math.min(len, q.length));
  });
  return { ids, mask, len };
}
