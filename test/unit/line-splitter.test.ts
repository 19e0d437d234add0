import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNapError } from '../../shared/errors.ts';
import { LineSplitter } from '../../shared/line-splitter.ts';

/** Pushes `bytes` in chunks of the sizes `cuts` gives, over and over; the lines that come out. */
function pushInCuts(splitter: LineSplitter, bytes: Buffer, cuts: readonly number[]): string[] {
  const out: string[] = [];
  for (let i = 0, at = 0; at < bytes.length; i++) {
    const size = cuts[i % cuts.length] as number;
    out.push(...splitter.push(bytes.subarray(at, at + size)));
    at += size;
  }
  return out;
}

describe('LineSplitter', () => {
  it('returns whole lines fed byte by byte, including multi-byte UTF-8 split mid-character', () => {
    const text = '{"type":"JOIN","files":["ação.mp4"]}\nSEARCH 日本.mp4\r\n\nlast';
    const bytes = Buffer.from(text, 'utf8');
    const splitter = new LineSplitter(1024);
    const lines: string[] = [];
    for (const byte of bytes) lines.push(...splitter.push(Buffer.from([byte])));
    expect(lines).toEqual(['{"type":"JOIN","files":["ação.mp4"]}', 'SEARCH 日本.mp4', '']);
    expect(splitter.takeRest().toString()).toBe('last');
  });

  it('splits any chunking of a stream into the same lines', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\n')),
          { maxLength: 8 },
        ),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1 }),
        (lines, cuts) => {
          const bytes = Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8');
          const splitter = new LineSplitter(1 << 20);
          const out = pushInCuts(splitter, bytes, cuts);
          expect(out).toEqual(lines.map((line) => line.replace(/\r$/, '')));
        },
      ),
    );
  });

  it('throws LINE_TOO_LONG as soon as an unfinished line passes the bound', () => {
    const splitter = new LineSplitter(10);
    expect(splitter.push(Buffer.from('0123456789'))).toEqual([]);
    let caught: unknown;
    try {
      splitter.push(Buffer.from('x'));
    } catch (error) {
      caught = error;
    }
    expect(isNapError(caught, 'LINE_TOO_LONG')).toBe(true);
  });

  it('accepts a line of exactly the bound and refuses one byte more when the newline comes with it', () => {
    expect(new LineSplitter(4).push(Buffer.from('abcd\n'))).toEqual(['abcd']);
    expect(() => new LineSplitter(4).push(Buffer.from('abcde\n'))).toThrow(/longer than 4 bytes/);
  });

  it('shift returns one line and keeps the raw bytes after it for takeRest', () => {
    const splitter = new LineSplitter(100);
    const body = Buffer.from([0x0a, 0x00, 0xff, 0x0a]);
    expect(splitter.shift(Buffer.concat([Buffer.from('{"type":"DOWNLOAD_OK","size":4}\n'), body]))).toBe(
      '{"type":"DOWNLOAD_OK","size":4}',
    );
    expect(splitter.takeRest()).toEqual(body);
    expect(splitter.bufferedBytes).toBe(0);
  });

  it('shiftBytes returns lines exactly as sent: a trailing \\r and invalid UTF-8 kept, the newline dropped', () => {
    const splitter = new LineSplitter(16);
    const raw = Buffer.from([0x68, 0x69, 0x0d, 0x0a, 0xff, 0xfe, 0x00, 0x0a, 0x61]);
    expect(splitter.shiftBytes(raw)).toEqual(Buffer.from([0x68, 0x69, 0x0d]));
    expect(splitter.shiftBytes()).toEqual(Buffer.from([0xff, 0xfe, 0x00]));
    expect(splitter.shiftBytes()).toBeNull();
    expect(splitter.takeRest()).toEqual(Buffer.from('a'));
    expect(() => new LineSplitter(2).shiftBytes(Buffer.from('abc'))).toThrow(/longer than 2 bytes/);
  });

  it('scans a long line that arrives a byte at a time in linear time', () => {
    const splitter = new LineSplitter(2_000_000);
    const started = performance.now();
    const one = Buffer.from('a');
    for (let i = 0; i < 200_000; i++) splitter.push(one);
    expect(splitter.push(Buffer.from('\n'))).toHaveLength(1);
    // Quadratic rescanning would take minutes here; linear takes well under a second.
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});

describe('LineSplitter memory', () => {
  it('keeps a line sent a byte at a time in a few growing pieces, not one Buffer per byte', () => {
    const splitter = new LineSplitter(2 * 1024 * 1024);
    const one = Buffer.from('b');
    for (let i = 0; i < 1024 * 1024; i++) splitter.push(one);
    // 1 MiB in pieces of up to 64 KiB: about 16, plus the first few small ones.
    expect(splitter.pieceCount).toBeLessThan(30);
    expect(splitter.bufferedBytes).toBe(1024 * 1024);
    const [line] = splitter.push(Buffer.from('\n'));
    expect(line).toBe('b'.repeat(1024 * 1024));
    expect(splitter.pieceCount).toBe(0);
  });

  it('splits any mix of small and large chunks, and shift/takeRest, like the whole stream', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 4096, maxLength: 9000 })),
          {
            maxLength: 30,
          },
        ),
        fc.integer({ min: 0, max: 255 }),
        (chunks, newlineEvery) => {
          // Newlines sprinkled in: the byte value newlineEvery becomes \n wherever it occurs.
          const parts = chunks.map((chunk) =>
            Buffer.from(chunk.map((byte) => (byte === newlineEvery ? 0x0a : byte))),
          );
          const whole = Buffer.concat(parts);
          const expected: Buffer[] = [];
          let start = 0;
          for (let at = whole.indexOf(0x0a); at !== -1; at = whole.indexOf(0x0a, start)) {
            expected.push(whole.subarray(start, at));
            start = at + 1;
          }
          const splitter = new LineSplitter(1 << 20);
          const got: Buffer[] = [];
          for (const part of parts) {
            for (let line = splitter.shiftBytes(part); line !== null; line = splitter.shiftBytes())
              got.push(Buffer.from(line));
          }
          expect(got).toEqual(expected);
          expect(splitter.takeRest()).toEqual(whole.subarray(start));
        },
      ),
    );
  });
});

describe('LineSplitter after takeRest', () => {
  it('starts clean: the next bytes make lines of their own', () => {
    const splitter = new LineSplitter(100);
    expect(splitter.push(Buffer.from('one\ntw'))).toEqual(['one']);
    expect(splitter.takeRest().toString()).toBe('tw');
    expect(splitter.bufferedBytes).toBe(0);
    expect(splitter.push(Buffer.from('three\nfo'))).toEqual(['three']);
    expect(splitter.push(Buffer.from('ur\n'))).toEqual(['four']);
    expect(splitter.takeRest()).toEqual(Buffer.alloc(0));
  });
});

describe('LineSplitter: lines across small and large chunks', () => {
  /** Bytes of `length` without a newline, varied so a misplaced copy shows. */
  function noNewline(length: number, seed: number): Buffer {
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) bytes[i] = 0x20 + ((i * 7 + seed) % 90);
    return bytes;
  }

  /** Feeds `chunks` with push and returns the lines, and what is left. */
  function feed(splitter: LineSplitter, chunks: Buffer[]): { lines: string[]; rest: Buffer } {
    const lines: string[] = [];
    for (const chunk of chunks) lines.push(...splitter.push(chunk));
    return { lines, rest: splitter.takeRest() };
  }

  it('empty chunks hold nothing, before a line or in the middle of one', () => {
    const splitter = new LineSplitter(100_000);
    for (let i = 0; i < 10; i++) expect(splitter.push(Buffer.alloc(0))).toEqual([]);
    expect(splitter.pieceCount).toBe(0);
    const large = noNewline(5000, 1);
    splitter.push(large);
    for (let i = 0; i < 10; i++) splitter.push(Buffer.alloc(0));
    expect(splitter.pieceCount).toBe(1);
    expect(splitter.bufferedBytes).toBe(5000);
    expect(splitter.push(Buffer.from('\n'))).toEqual([large.toString('latin1')]);
  });

  it('a small chunk after large ones without a newline, and after small ones, keeps every byte in order', () => {
    const parts = [
      noNewline(3, 2),
      noNewline(20, 3),
      noNewline(6000, 4), // large, kept as it is, after a piece of small ones
      noNewline(5, 5), // small again: must not be copied into the earlier piece
      noNewline(7000, 6),
      noNewline(1, 7),
    ];
    const { lines, rest } = feed(new LineSplitter(100_000), [...parts, Buffer.from('\nnext')]);
    expect(lines).toEqual([Buffer.concat(parts).toString('latin1')]);
    expect(rest.toString()).toBe('next');
  });

  it('a line that starts with a large chunk and goes on in small ones', () => {
    const parts = [noNewline(4500, 8), noNewline(9, 9), noNewline(9, 10)];
    const { lines } = feed(new LineSplitter(100_000), [...parts, Buffer.from('\n')]);
    expect(lines).toEqual([Buffer.concat(parts).toString('latin1')]);
  });

  it('a small chunk followed by several large ones without a newline', () => {
    const parts = [noNewline(1, 11), noNewline(100_000, 12), noNewline(100_000, 13), noNewline(70_000, 14)];
    const { lines } = feed(new LineSplitter(1 << 20), [...parts, Buffer.from('x\n')]);
    expect(lines).toEqual([`${Buffer.concat(parts).toString('latin1')}x`]);
  });

  it('a line grown byte by byte past its store, then large chunks, then bytes again', () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < 70_000; i++) parts.push(noNewline(1, i));
    parts.push(noNewline(9000, 15));
    for (let i = 0; i < 5000; i++) parts.push(noNewline(1, i + 3));
    const { lines } = feed(new LineSplitter(1 << 20), [...parts, Buffer.from('\n')]);
    expect(lines).toEqual([Buffer.concat(parts).toString('latin1')]);
  });

  it('the rest of a chunk read with shift, then a small chunk: the count of buffered bytes stays right', () => {
    const splitter = new LineSplitter(100);
    expect(splitter.shift(Buffer.from('one\ntwo\nthr'))).toBe('one');
    expect(splitter.shift(Buffer.from('ee'))).toBe('two');
    expect(splitter.bufferedBytes).toBe(5);
    expect(splitter.shift()).toBeNull();
    expect(splitter.push(Buffer.from('\nfour\n'))).toEqual(['three', 'four']);
    expect(splitter.bufferedBytes).toBe(0);
  });

  it('a line of exactly the bound in small chunks is accepted; one byte more is refused before its newline', () => {
    const bound = 10_000;
    const exact = new LineSplitter(bound);
    const lines: string[] = [];
    for (let at = 0; at < bound; at += 100) lines.push(...exact.push(noNewline(100, at)));
    lines.push(...exact.push(Buffer.from('\n')));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toHaveLength(bound);
    const over = new LineSplitter(bound);
    for (let at = 0; at < bound; at += 100) over.push(noNewline(100, at));
    expect(() => over.push(Buffer.from('y'))).toThrow(/longer than 10000 bytes/);
  });

  it('many lines in one chunk, after a line begun in earlier chunks', () => {
    const splitter = new LineSplitter(1000);
    splitter.push(Buffer.from('sta'));
    splitter.push(Buffer.from('rt'));
    const many = Array.from({ length: 500 }, (_, i) => `line ${i}`);
    expect(splitter.push(Buffer.from(`ed\n${many.join('\n')}\ntail`))).toEqual(['started', ...many]);
    expect(splitter.bufferedBytes).toBe(4);
    expect(splitter.takeRest().toString()).toBe('tail');
  });

  it('any stream of long lines cut into small, bound-sized and large chunks gives the same lines', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 6 }),
        fc.array(
          fc.oneof(
            fc.integer({ min: 1, max: 40 }),
            fc.integer({ min: 4000, max: 4200 }),
            fc.integer({ min: 9000, max: 30_000 }),
          ),
          { minLength: 1, maxLength: 20 },
        ),
        (lengths, cuts) => {
          const lines = lengths.map((length, i) => noNewline(length, i).toString('latin1'));
          const bytes = Buffer.from(lines.map((line) => `${line}\n`).join(''), 'latin1');
          const splitter = new LineSplitter(1 << 20);
          const out = pushInCuts(splitter, bytes, cuts);
          expect(out).toEqual(lines);
          expect(splitter.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
