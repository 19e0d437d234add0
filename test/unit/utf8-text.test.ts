/** UTF-8 decoding that keeps invalid bytes visible (shared/utf8-text.ts), and what refuses them. */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNapError } from '../../shared/errors.ts';
import { parseMessage } from '../../shared/json-line.ts';
import { LineSplitter } from '../../shared/line-splitter.ts';
import { decodeUtf8, hasInvalidUtf8 } from '../../shared/utf8-text.ts';
import { INVALID_UTF8 } from '../helpers/forbidden-text.ts';

/** The bytes a decoded string stands for: U+DC80-U+DCFF back to the byte, the rest as UTF-8. */
function encodeBack(text: string): Buffer {
  const parts: Buffer[] = [];
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    parts.push(code >= 0xdc80 && code <= 0xdcff ? Buffer.from([code - 0xdc00]) : Buffer.from(char, 'utf8'));
  }
  return Buffer.concat(parts);
}

describe('decodeUtf8', () => {
  it('decodes valid UTF-8 as Node does', () => {
    const bytes = Buffer.from('ação 日本 😀 \u0000', 'utf8');
    expect(decodeUtf8(bytes)).toBe(bytes.toString('utf8'));
    expect(hasInvalidUtf8(decodeUtf8(bytes))).toBe(false);
  });

  it('keeps each invalid byte as U+DC00 + byte, never as U+FFFD', () => {
    expect(decodeUtf8(Buffer.from([0x61, 0xff, 0x62]))).toBe('a\udcffb');
    expect(decodeUtf8(Buffer.from([0xc0, 0x80]))).toBe('\udcc0\udc80'); // overlong NUL
    expect(decodeUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\udced\udca0\udc80'); // a surrogate
    expect(decodeUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe('\udcf4\udc90\udc80\udc80'); // > U+10FFFF
    expect(decodeUtf8(Buffer.from([0xe2, 0x82]))).toBe('\udce2\udc82'); // cut short
    expect(decodeUtf8(Buffer.from([0xe2, 0x82, 0xac, 0x80]))).toBe('€\udc80');
    for (const bad of INVALID_UTF8) expect(decodeUtf8(bad)).not.toContain('\ufffd');
  });

  it('for any bytes: lone surrogates exactly when the bytes are not UTF-8, and no byte lost', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (array) => {
        const bytes = Buffer.from(array);
        const text = decodeUtf8(bytes);
        expect(hasInvalidUtf8(text)).toBe(!isUtf8(bytes));
        if (isUtf8(bytes)) expect(text).toBe(bytes.toString('utf8'));
        expect(encodeBack(text)).toEqual(bytes);
      }),
    );
  });

  it('agrees with the WHATWG decoder on which sequences are valid, for every 1-4 byte prefix', () => {
    const strict = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 4 }), (array) => {
        let valid = true;
        try {
          strict.decode(array);
        } catch {
          valid = false;
        }
        expect(hasInvalidUtf8(decodeUtf8(Buffer.from(array)))).toBe(!valid);
      }),
    );
  });
});

describe('invalid UTF-8 on a line', () => {
  it('LineSplitter hands it on as lone surrogates and parseMessage refuses the line with BAD_REQUEST', () => {
    const line = Buffer.concat([
      Buffer.from('{"type":"SEARCH","file":"a'),
      Buffer.from([0xff]),
      Buffer.from('"}\n'),
    ]);
    const [text] = new LineSplitter(1024).push(line);
    expect(text).toBe('{"type":"SEARCH","file":"a\udcff"}');
    let caught: unknown;
    try {
      parseMessage(text as string);
    } catch (error) {
      caught = error;
    }
    expect(isNapError(caught, 'BAD_REQUEST')).toBe(true);
    expect((caught as Error).message).toBe('The line is not valid UTF-8.');
  });

  it('a JSON escape of a lone surrogate is valid UTF-8 text: the line parses, the field checks refuse it', () => {
    expect(parseMessage('{"type":"SEARCH","file":"a\\ud800"}')).toEqual({ type: 'SEARCH', file: 'a\ud800' });
  });
});
