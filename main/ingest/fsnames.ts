import { join } from 'node:path';

/**
 * File names on Linux are bytes, not text. Node decodes them as UTF-8 and silently replaces
 * invalid bytes, which yields a path that does not exist. For such names Loupe keeps the exact
 * bytes (to open the file) and a readable, unambiguous text form (to show and to key the row).
 */

export const REPLACEMENT_CHAR = '\uFFFD';

function seqLength(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

function validSequence(buf: Uint8Array, i: number, len: number): boolean {
  if (i + len > buf.length) return false;
  const b0 = buf[i]!;
  for (let k = 1; k < len; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return false;
  const b1 = buf[i + 1] ?? 0;
  if (len === 3 && b0 === 0xe0 && b1 < 0xa0) return false; // overlong
  if (len === 3 && b0 === 0xed && b1 >= 0xa0) return false; // UTF-16 surrogates
  if (len === 4 && b0 === 0xf0 && b1 < 0x90) return false; // overlong
  if (len === 4 && b0 === 0xf4 && b1 >= 0x90) return false; // above U+10FFFF
  return true;
}

/** Decodes UTF-8, writing each byte that is not part of a valid sequence as `\xNN`. */
export function displayName(bytes: Uint8Array): string {
  let out = '';
  let start = 0;
  let i = 0;
  const dec = new TextDecoder('utf-8');
  while (i < bytes.length) {
    const len = seqLength(bytes[i]!);
    if (len > 0 && validSequence(bytes, i, len)) { i += len; continue; }
    out += dec.decode(bytes.subarray(start, i)) + `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
    i += 1;
    start = i;
  }
  return out + dec.decode(bytes.subarray(start));
}

export function isValidUtf8(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length) {
    const len = seqLength(bytes[i]!);
    if (len === 0 || !validSequence(bytes, i, len)) return false;
    i += len;
  }
  return true;
}

/** A path as Loupe holds it: `text` to show and key, `raw` only when the text is not the real path. */
export interface FsPath {
  readonly text: string;
  readonly raw: Buffer | null;
}

export function joinPath(dir: FsPath, nameText: string, nameRaw: Buffer | null): FsPath {
  const text = join(dir.text, nameText);
  if (dir.raw === null && nameRaw === null) return { text, raw: null };
  const dirBytes = dir.raw ?? Buffer.from(dir.text, 'utf8');
  const nameBytes = nameRaw ?? Buffer.from(nameText, 'utf8');
  const sep = dirBytes[dirBytes.length - 1] === 0x2f ? Buffer.alloc(0) : Buffer.from('/');
  return { text, raw: Buffer.concat([dirBytes, sep, nameBytes]) };
}

/** What to hand to fs calls. */
export function fsArg(p: FsPath): string | Buffer {
  return p.raw ?? p.text;
}
