/**
 * The CLIP tokenizer against token ids published by other CLIP implementations' test suites
 * (OpenAI's vocabulary, kept in test/fixtures/clip).
 */
import { describe, expect, it } from 'vitest';
import { ClipTokenizer, cleanText, CONTEXT_LENGTH } from '../../main/encoders/clip-tokenizer.js';
import { CLIP_MERGES } from '../helpers/packs.js';

describe('CLIP tokenizer', () => {
  const tok = ClipTokenizer.fromFile(CLIP_MERGES);

  it('has the reference vocabulary and special tokens', () => {
    expect(tok.vocabSize).toBe(49408);
    expect(tok.sot).toBe(49406);
    expect(tok.eot).toBe(49407);
  });

  it.each([
    ['a photo of a cat', [320, 1125, 539, 320, 2368]],
    ['a photo of a dog', [320, 1125, 539, 320, 1929]],
    ['A PHOTO of  a Cat!', [320, 1125, 539, 320, 2368, 256]],
    ['Hello, world!', [3306, 267, 1002, 256]],
    ["don't stop 42 times", [847, 713, 1691, 275, 273, 1661]],
    ['hello-world, 3.14 (test)', [3306, 268, 1002, 267, 274, 269, 272, 275, 263, 1628, 264]],
    ['cafe uber naive', [4979, 10668, 43362]],
    ['café über naïve', [15304, 6522, 1516, 1097, 35689, 563]],
    ['cafe\u0301', [15304]], // decomposed é is normalised (NFC) first
    ['  spaced   out  ', [10336, 538, 620]],
    ['Special characters: !@#$%^&*()', [1689, 6564, 281, 0, 31, 2, 3, 4, 61, 5, 9, 8475]],
    ['😀 😃 😄', [7334, 8520, 7624]],
    ['你好世界', [47466, 254, 29290, 121, 19759, 244, 163, 243, 490]],
    ['sunset', [3424]],
    ['beach', [2117]],
    ['', []],
    ['    \t\n', []],
  ])('encodes %j', (text, ids) => {
    expect(tok.encode(text)).toEqual(ids);
  });

  it('unescapes HTML entities twice, as the reference does', () => {
    expect(cleanText('fish &amp;amp; chips')).toBe('fish & chips');
    expect(tok.encode('fish &amp; chips')).toEqual(tok.encode('fish & chips'));
  });

  it('wraps, pads and truncates to the context length keeping the end token', () => {
    const short = tok.tokenize('a photo of a cat');
    expect(short.length).toBe(CONTEXT_LENGTH);
    expect(Array.from(short.slice(0, 8))).toEqual([49406, 320, 1125, 539, 320, 2368, 49407, 0]);
    const long = tok.tokenize(Array.from({ length: 200 }, () => 'cat').join(' '));
    expect(long[0]).toBe(49406);
    expect(long[CONTEXT_LENGTH - 1]).toBe(49407);
    expect(long[CONTEXT_LENGTH - 2]).toBe(2368);
  });

  it('treats control-token text in a query as text', () => {
    expect(tok.encode('<|endoftext|>')).toEqual([27, 347, 40786, 4160, 91, 285]);
  });
});
