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

  it('lets go of every state it no longer needs: passed, duplicated, and all of them at the end', () => {
    // A state that records whether it was let go (as a hashing thread's hashes must be).
    class State {
      forgotten = false;
      constructor(readonly name: string) {}
      copy(): State {
        return new State(`${this.name}'`);
      }
      forget(): void {
        this.forgotten = true;
      }
    }
    const start = new State('start');
    const chain = new PrefixChain(start);
    const [after0, after1, again1, after3] = ['0', '1', '1 again', '3'].map((name) => new State(name)) as [
      State,
      State,
      State,
      State,
    ];
    chain.verified(1, after1);
    chain.verified(1, again1); // an endgame copy: not kept
    expect(again1.forgotten).toBe(true);
    chain.verified(0, after0); // the chain moves past 0 and 1: start and after0 are done with
    expect([start.forgotten, after0.forgotten, after1.forgotten]).toEqual([true, true, false]);
    chain.verified(3, after3);
    chain.dispose();
    expect([after1.forgotten, after3.forgotten]).toEqual([true, true]);
  });
});
