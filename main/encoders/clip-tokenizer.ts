/**
 * CLIP's byte-level BPE tokenizer, as OpenAI's simple_tokenizer.py: text is cleaned (Unicode NFC,
 * HTML entities unescaped twice, whitespace runs collapsed, trimmed), lower-cased, split by the
 * reference pattern, each piece mapped byte by byte to printable characters and merged by rank.
 * Sequences are <|startoftext|> … <|endoftext|>, truncated to the context length with the end
 * token kept last, and zero-padded.
 *
 * One deliberate difference: "<|startoftext|>" typed in a query is text, not a control token (a
 * user's words never end the sequence early).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const CONTEXT_LENGTH = 77;

/**
 * The reference's byte → character mapping: printable Latin-1 bytes map to themselves, the rest
 * to code points from 256 up. `order` is the reference dict's insertion order, which is also the
 * order of the first 256 (and next 256, with </w>) vocabulary entries.
 */
export function bytesToUnicode(): { table: string[]; order: string[] } {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const table: string[] = new Array<string>(256);
  bs.forEach((b, i) => (table[b] = String.fromCodePoint(cs[i]!)));
  return { table, order: cs.map((c) => String.fromCodePoint(c)) };
}

const PATTERN = /'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu;

const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function unescapeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

/** basic_clean + whitespace_clean + lower(), as the reference applies them. */
export function cleanText(text: string): string {
  return unescapeHtml(unescapeHtml(text.normalize('NFC')))
    .trim()
    .replace(/\s+/gu, ' ')
    .trim()
    .toLowerCase();
}

/** A tokenizer file's text: merges (gzipped or not) or a tokenizer.json. */
export function readTokenizerFile(path: string): string {
  const buf = readFileSync(path);
  return (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
}

export class ClipTokenizer {
  readonly sot: number;
  readonly eot: number;
  private readonly encoder = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  private readonly byteChars: string[];
  private readonly cache = new Map<string, string[]>();

  /** merges: the lines of bpe_simple_vocab_16e6.txt (first line a header). */
  constructor(merges: readonly string[]) {
    const list = merges.slice(1, 49152 - 256 - 2 + 1).map((l) => l.split(' ') as [string, string]);
    if (list.length !== 48894 || list.some((m) => m.length !== 2)) throw new Error(`expected 48,894 BPE merges, found ${list.length}`);
    const { table, order } = bytesToUnicode();
    this.byteChars = table;
    const vocab: string[] = [...order, ...order.map((c) => `${c}</w>`), ...list.map(([a, b]) => a + b), '<|startoftext|>', '<|endoftext|>'];
    vocab.forEach((v, i) => this.encoder.set(v, i));
    list.forEach(([a, b], i) => this.ranks.set(`${a} ${b}`, i));
    this.sot = this.encoder.get('<|startoftext|>')!;
    this.eot = this.encoder.get('<|endoftext|>')!;
  }

  /**
   * From a merges file (bpe_simple_vocab_16e6.txt[.gz], or a pack's merges.txt) or a Hugging Face
   * tokenizer.json, whose model.merges hold the same list.
   */
  static fromFile(path: string): ClipTokenizer {
    const text = readTokenizerFile(path);
    if (!text.trimStart().startsWith('{')) return new ClipTokenizer(text.split('\n'));
    return ClipTokenizer.fromJson(JSON.parse(text) as unknown, path);
  }

  /** From a parsed Hugging Face tokenizer.json: its model.merges. */
  static fromJson(json: unknown, where: string): ClipTokenizer {
    const model = (json as { model?: { type?: string; merges?: unknown } }).model;
    const merges = model?.merges;
    if (model?.type !== 'BPE' || !Array.isArray(merges)) throw new Error(`${where}: not a BPE tokenizer.json`);
    const lines = merges.map((m: unknown) => (Array.isArray(m) ? m.join(' ') : String(m)));
    return new ClipTokenizer(['#version: 0.2', ...lines]);
  }

  get vocabSize(): number {
    return this.encoder.size;
  }

  private bpe(token: string): string[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    const chars = [...token];
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]!}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]!} ${word[i + 1]!}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      // Merge every occurrence of the pair, left to right, as the reference does.
      const next: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else next.push(word[i++]!);
      }
      word = next;
    }
    if (this.cache.size < 100_000) this.cache.set(token, word);
    return word;
  }

  /** Token ids of a text, without start/end tokens. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const piece of cleanText(text).match(PATTERN) ?? []) {
      const mapped = Array.from(Buffer.from(piece, 'utf8'), (b) => this.byteChars[b]!).join('');
      for (const t of this.bpe(mapped)) ids.push(this.encoder.get(t)!);
    }
    return ids;
  }

  /** [sot, …, eot] padded with zeros to the context length; overlong text keeps eot last. */
  tokenize(text: string, contextLength = CONTEXT_LENGTH): Int32Array {
    const ids = [this.sot, ...this.encode(text), this.eot];
    if (ids.length > contextLength) {
      ids.length = contextLength;
      ids[contextLength - 1] = this.eot;
    }
    const out = new Int32Array(contextLength);
    out.set(ids);
    return out;
  }
}
