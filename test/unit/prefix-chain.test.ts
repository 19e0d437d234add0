import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PrefixChain } from '../../peer/transfer/prefix-chain.ts';

const pieces = ['aa', 'bb', 'cc', 'dd'].map((text) => Buffer.from(text));

/** The running hash after the first `count` pieces. */
function hashAfter(count: number) {
  const hash = createHash('sha256');
  for (const piece of pieces.slice(0, count)) hash.update(piece);
  return hash;
}

describe('PrefixChain', () => {
  it('moves past pieces verified out of order only once those before them are', () => {
    const chain = new PrefixChain(hashAfter(0));
    chain.verified(1, hashAfter(2));
    // Piece 0 is not verified yet: a range must start there, from the first byte.
    expect(chain.from(0).digest('hex')).toBe(hashAfter(0).digest('hex'));
    expect(() => chain.from(2)).toThrow(/before piece 0/);
    chain.verified(0, hashAfter(1));
    expect(chain.from(2).digest('hex')).toBe(hashAfter(2).digest('hex'));
    chain.verified(2, hashAfter(3));
    chain.verified(1, hashAfter(0)); // an endgame copy of a piece already passed changes nothing
    expect(chain.from(3).digest('hex')).toBe(hashAfter(3).digest('hex'));
  });

  it('hands out copies: a range that fails does not move the chain', () => {
    const chain = new PrefixChain(hashAfter(0));
    chain.from(0).update(pieces[0] as Buffer);
    expect(chain.from(0).digest('hex')).toBe(hashAfter(0).digest('hex'));
  });
});
