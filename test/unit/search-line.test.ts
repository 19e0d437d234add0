/**
 * The SEARCH fast path (shared/search-line.ts) against the full decoder, on generated lines: the
 * index server answers a line canonicalSearchName reads as a SEARCH of that name, and decodes any
 * other in full. So whenever it reads a name, the full decoder must decode that line (as
 * LineSplitter hands it on) as exactly that SEARCH; and the canonical line of every safe name
 * written without an escape must take the fast path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSafeFileName } from '../../shared/file-names.ts';
import { decodeIndexRequest } from '../../shared/index-protocol.ts';
import { canonicalSearchName } from '../../shared/search-line.ts';
import { decodeUtf8 } from '../../shared/utf8-text.ts';
import { refusalOf } from '../helpers/error-code.ts';

/** What the server makes of `line`: the fast path's SEARCH, else the full decoder's answer. */
function served(line: Buffer): unknown {
  const file = canonicalSearchName(line);
  return file === undefined ? outcome(line) : { type: 'SEARCH', file };
}

/** What the full decoder makes of `line`: the request, or `CODE: sentence`. */
function outcome(line: Buffer): unknown {
  let decoded: unknown;
  const refusal = refusalOf(() => {
    decoded = decodeIndexRequest(decodeUtf8(line));
  });
  return refusal === 'accepted' ? decoded : refusal;
}

function expectSameAsFullDecoder(line: Buffer): void {
  expect(served(line)).toEqual(outcome(line));
}

const canonical = (name: string) => Buffer.from(`{"type":"SEARCH","file":"${name}"}`, 'utf8');

/** Names that reach every rule of file-names.ts, and the JSON string's own. */
const tricky = fc.constantFrom(
  '',
  '.',
  '..',
  'a..b',
  'a/b',
  'a\\b',
  'C:x',
  'con',
  'NUL.txt',
  'end.',
  'end ',
  'x\u007f',
  'x\u0085',
  'bidi\u202e',
  'zw\u200b',
  'bom\ufeff',
  'sep\u2028',
  'olá.mp4',
  '日本.mp4',
  '😀.mp4',
  'tab\there',
  'quote"d',
  'x'.repeat(255),
  'x'.repeat(256),
  'é'.repeat(128),
  'é'.repeat(127),
  'x'.repeat(100_000),
);
const names = fc.oneof(
  tricky,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom('a', '.', '/', '\\', ':', ' ', '"', '\u0000', '\u001f', '\u007f', 'é'),
    maxLength: 12,
  }),
);

/** Lines around the canonical one: other spellings, fields, types and bytes. */
const lines = fc.oneof(
  names.map((name) => canonical(name)),
  names.map((name) => Buffer.from(JSON.stringify({ type: 'SEARCH', file: name }), 'utf8')),
  names.map((name) => Buffer.from(JSON.stringify({ file: name, type: 'SEARCH' }), 'utf8')),
  names.map((name) => Buffer.from(`{ "type": "SEARCH", "file": "${name}" }`, 'utf8')),
  names.map((name) => Buffer.from(`{"type":"SEARCH","file":"${name}","extra":1}`, 'utf8')),
  names.map((name) => Buffer.from(`{"type":"SEARCH","file":"a","file":"${name}"}`, 'utf8')),
  names.map((name) => Buffer.from(`{"type":"SEARCH","file":"${name}"}x`, 'utf8')),
  names.map((name) => Buffer.from(`{"type":"UPDATE","file":"${name}"}`, 'utf8')),
  names.map((name) => Buffer.from(`{"type":"SEARCH","file":"${name}"} `, 'utf8')),
  fc.string({ unit: 'binary', maxLength: 60 }).map((text) => Buffer.from(text, 'utf8')),
  // Any bytes inside the name: invalid UTF-8, overlong forms, encoded surrogates, controls.
  fc
    .uint8Array({ maxLength: 24 })
    .map((bytes) => Buffer.concat([canonical('').subarray(0, 25), bytes, Buffer.from('"}')])),
  // A canonical line with a byte replaced anywhere (the prefix, the quotes, the brace).
  fc.tuple(names, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([name, at, byte]) => {
    const line = Buffer.from(canonical(name));
    if (line.length > 0) line[at % line.length] = byte;
    return line;
  }),
);

describe('SEARCH read on its bytes', () => {
  it('decodes every line exactly as the full decoder does', () => {
    fc.assert(fc.property(lines, expectSameAsFullDecoder), { numRuns: 20_000 });
  });

  it('takes the fast path for the canonical line of any safe name without an escape', () => {
    fc.assert(
      fc.property(names, (name) => {
        const line = canonical(name);
        const fast = !/["\\]/.test(name) && isSafeFileName(name);
        expect(canonicalSearchName(line)).toBe(fast ? name : undefined);
        expectSameAsFullDecoder(line);
      }),
      { numRuns: 5_000 },
    );
  });

  it('leaves what the full decoder refuses to it, so the refusal keeps its code', () => {
    expect(served(canonical('a/b'))).toMatch(/^UNSAFE_NAME: /);
    expect(served(canonical(''))).toMatch(/^UNSAFE_NAME: /);
    expect(served(canonical('x'.repeat(256)))).toMatch(/^UNSAFE_NAME: /);
    expect(served(canonical('tab\there'))).toBe('BAD_REQUEST: The line is not valid JSON.');
    const invalid = Buffer.concat([canonical('').subarray(0, 25), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(canonicalSearchName(invalid)).toBeUndefined();
    expect(served(invalid)).toBe('BAD_REQUEST: The line is not valid UTF-8.');
    expect(canonicalSearchName(canonical('aula1.mp4'))).toBe('aula1.mp4');
  });
});
