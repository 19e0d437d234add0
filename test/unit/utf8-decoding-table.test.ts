/**
 * decodeUtf8's own sequence table (Unicode table 3-7) against Node's validator, at every edge: all
 * two-byte sequences, and three- and four-byte ones whose bytes sit on each side of each bound
 * (overlong forms, surrogates, past U+10FFFF, cut short at the end). Each sequence follows an
 * invalid byte, so the byte-by-byte path decodes it (valid text alone takes Node's decoder).
 */
import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeUtf8, hasInvalidUtf8 } from '../../shared/utf8-text.ts';

/** The bytes a decoded text stands for: an escape U+DC80-U+DCFF is its byte, the rest UTF-8. */
function bytesOf(text: string): Buffer {
  const out: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (code >= 0xdc80 && code <= 0xdcff) out.push(code - 0xdc00);
    else out.push(...Buffer.from(char, 'utf8'));
  }
  return Buffer.from(out);
}

const around = (...bounds: number[]) => [...new Set(bounds.flatMap((b) => [b - 1, b, b + 1]))];

function sequences(): number[][] {
  const all: number[][] = [];
  for (let lead = 0x80; lead <= 0xff; lead++) for (let next = 0; next <= 0xff; next++) all.push([lead, next]);
  const continuation = around(0x80, 0xbf);
  for (let lead = 0xe0; lead <= 0xef; lead++)
    for (const second of around(0x80, 0x9f, 0xa0, 0xbf))
      for (const third of continuation) all.push([lead, second, third], [lead, second]);
  for (let lead = 0xf0; lead <= 0xf5; lead++)
    for (const second of around(0x80, 0x8f, 0x90, 0xbf))
      for (const third of continuation)
        for (const fourth of continuation) all.push([lead, second, third, fourth], [lead, second, third]);
  return all;
}

describe('decodeUtf8 byte by byte', () => {
  it('keeps every valid sequence as its character and every other byte as its escape', () => {
    let valid = 0;
    // At the very end, and followed by a plain "A" (a sequence must not take the byte after it).
    for (const sequence of sequences())
      for (const after of [[], [0x41]]) {
        const bytes = Buffer.from([0xff, ...sequence, ...after]);
        const text = decodeUtf8(bytes);
        const what = Buffer.from([...sequence, ...after]).toString('hex');
        // Nothing lost or invented: the text stands for exactly the bytes received.
        expect(bytesOf(text).equals(bytes), what).toBe(true);
        const rest = text.slice(1, text.length - after.length);
        if (isUtf8(Buffer.from(sequence))) {
          valid++;
          expect(rest, what).toBe(Buffer.from(sequence).toString('utf8'));
        } else expect(hasInvalidUtf8(rest), what).toBe(true);
        if (after.length > 0) expect(text.endsWith('A'), what).toBe(true);
      }
    // The table holds both kinds in numbers (a vacuous run would pass the checks above).
    expect(valid).toBeGreaterThan(4000);
  });
});
