import { describe, expect, it } from 'vitest';
import { displayName, isValidUtf8, joinPath } from '../../main/ingest/fsnames.js';

describe('file names that are not UTF-8', () => {
  it('leaves valid UTF-8 as it is, including emoji and accents', () => {
    const name = 'Été 2024 🏖️ — 家族.jpg';
    const bytes = Buffer.from(name, 'utf8');
    expect(isValidUtf8(bytes)).toBe(true);
    expect(displayName(bytes)).toBe(name);
  });

  it('escapes each invalid byte as \\xNN and keeps the valid text around it', () => {
    const bytes = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from('-é-'), Buffer.from([0xff, 0xfe]), Buffer.from('.jpg')]);
    expect(isValidUtf8(bytes)).toBe(false);
    expect(displayName(bytes)).toBe('caf\\xe9-é-\\xff\\xfe.jpg');
  });

  it('rejects overlong forms, UTF-16 surrogates and truncated sequences', () => {
    expect(isValidUtf8(Buffer.from([0xc0, 0xaf]))).toBe(false); // overlong '/'
    expect(isValidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(false); // U+D800
    expect(isValidUtf8(Buffer.from([0xe2, 0x82]))).toBe(false); // cut short
    expect(isValidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(false); // > U+10FFFF
    expect(displayName(Buffer.from([0xe2, 0x82]))).toBe('\\xe2\\x82');
  });

  it('joins raw bytes only when a component needs them', () => {
    expect(joinPath({ text: '/a', raw: null }, 'b.jpg', null)).toEqual({ text: '/a/b.jpg', raw: null });
    const j = joinPath({ text: '/a', raw: null }, 'x\\xff.jpg', Buffer.from([0x78, 0xff, 0x2e, 0x6a, 0x70, 0x67]));
    expect(j.text).toBe('/a/x\\xff.jpg');
    expect([...j.raw!]).toEqual([...Buffer.from('/a/'), 0x78, 0xff, ...Buffer.from('.jpg')]);
  });
});
