/**
 * napshare's strict bencode (BEP 3): golden bytes written by hand, agreement with the `bencode`
 * package on every value both accept, and every kind of malformed input refused with PROTOCOL.
 */
import bencode from 'bencode';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BencodeValue,
  decodeBencode,
  encodeBencode,
  MAX_BENCODE_DEPTH,
} from '../../peer/dht/bencode.ts';
import { isNapError } from '../../shared/errors.ts';

const bytes = (text: string) => Buffer.from(text, 'latin1');

/** The same value as the `bencode` package takes it: objects for dictionaries. */
function plain(value: BencodeValue): unknown {
  if (Buffer.isBuffer(value) || typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map(plain);
  return Object.fromEntries([...value].map(([key, item]) => [key, plain(item)]));
}

const valueArb: fc.Arbitrary<BencodeValue> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.uint8Array({ maxLength: 40 }).map((array) => Buffer.from(array)),
    fc.maxSafeInteger(),
    fc.array(tie('value'), { maxLength: 5 }),
    // ASCII keys: the `bencode` package writes object keys as UTF-8 text.
    fc
      .array(fc.tuple(fc.string({ unit: 'binary-ascii', maxLength: 8 }), tie('value')), { maxLength: 5 })
      .map((entries) => new Map(entries)),
  ),
})).value as fc.Arbitrary<BencodeValue>;

function refusal(text: string | Buffer): string {
  try {
    decodeBencode(typeof text === 'string' ? bytes(text) : text);
  } catch (error) {
    expect(isNapError(error, 'PROTOCOL')).toBe(true);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(String(text))}`);
}

describe('bencode: golden bytes (BEP 3)', () => {
  it('decodes integers, strings, lists and dictionaries', () => {
    expect(decodeBencode(bytes('i42e'))).toBe(42);
    expect(decodeBencode(bytes('i-7e'))).toBe(-7);
    expect(decodeBencode(bytes('i0e'))).toBe(0);
    expect(decodeBencode(bytes('4:spam'))).toEqual(bytes('spam'));
    expect(decodeBencode(bytes('0:'))).toEqual(Buffer.alloc(0));
    expect(decodeBencode(bytes('l4:spami42ee'))).toEqual([bytes('spam'), 42]);
    expect(decodeBencode(bytes('d3:bar4:spam3:fooi42ee'))).toEqual(
      new Map<string, BencodeValue>([
        ['bar', bytes('spam')],
        ['foo', 42],
      ]),
    );
  });

  it('encodes dictionaries with their keys sorted by bytes', () => {
    const value = new Map<string, BencodeValue>([
      ['foo', 42],
      ['bar', [bytes('spam')]],
      ['\u00ff', 1],
      ['Z', 0],
    ]);
    expect(encodeBencode(value).toString('latin1')).toBe('d1:Zi0e3:barl4:spame3:fooi42e1:\u00ffi1ee');
  });

  it('keeps the exact bytes of strings and keys that are not text', () => {
    const raw = bytes('d2:\u00ff\u00001:\u0080e');
    const value = decodeBencode(raw);
    expect(encodeBencode(value)).toEqual(raw);
  });
});

describe('bencode: agreement with the bencode package', () => {
  it('encodes every value exactly as the package does, and decodes it back', () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        const ours = encodeBencode(value);
        expect(ours).toEqual(Buffer.from(bencode.encode(plain(value))));
        expect(decodeBencode(ours)).toEqual(value);
      }),
    );
  });
});

describe('bencode: malformed input is refused with PROTOCOL', () => {
  it.each([
    ['', /ends where a value was expected/],
    ['i01e', /non-canonical number/],
    ['i-0e', /non-canonical number/],
    ['ie', /malformed number/],
    ['i1.5e', /malformed number/],
    ['i12345678901234567e', /malformed number/],
    ['i9007199254740993e', /too large/],
    ['i42', /malformed number/],
    ['03:abc', /non-canonical number/],
    ['5:ab', /runs past the end/],
    ['-1:a', /unexpected byte 0x2d/],
    ['d-1:ai1ee', /negative string length/],
    ['l4:spam', /ends where a value was expected/],
    ['d3:foo', /ends where a value was expected/],
    ['d3:fooi1e', /not closed/],
    ['di1ei2ee', /malformed number/],
    ['d1:ai1e1:ai2ee', /the key "a" appears twice/],
    ['i1ei2e', /3 bytes after the value/],
    ['x', /unexpected byte 0x78/],
  ])('%j', (text, reason) => {
    expect(refusal(text)).toMatch(reason);
  });

  it(`nests at most ${MAX_BENCODE_DEPTH} lists or dictionaries`, () => {
    const nested = (depth: number) => `${'l'.repeat(depth)}${'e'.repeat(depth)}`;
    expect(() => decodeBencode(bytes(nested(MAX_BENCODE_DEPTH)))).not.toThrow();
    expect(refusal(nested(MAX_BENCODE_DEPTH + 1))).toMatch(/nested deeper than 16/);
    // Far deeper than any stack: refused at once, without recursion to the end.
    expect(refusal(nested(100_000))).toMatch(/nested deeper/);
  });

  it('throws nothing but PROTOCOL on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (array) => {
        try {
          decodeBencode(array);
        } catch (error) {
          expect(isNapError(error, 'PROTOCOL')).toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
