/**
 * HolderIndex: one holder kept as itself, several as Holders, and the replies it keeps for names
 * with several holders: dropped when the holders change, and never more than MAX_ENCODED_BYTES
 * of them together (past it all are dropped), with encodedBytes saying what is kept now.
 */
import { describe, expect, it } from 'vitest';
import { HolderIndex, Holders, MAX_ENCODED_BYTES } from '../../server/holder-index.ts';

/** The Holders of a name held by several (what a SEARCH peeks at), failing the test otherwise. */
function holdersOf<H>(index: HolderIndex<H>, name: string): Holders<H> {
  const held = index.peek(name);
  if (!(held instanceof Holders)) throw new Error(`${name} is not held by several`);
  return held;
}

// Kept replies are compared by length: a failing comparison of megabytes would print them all.
function reply(bytes: number): Uint8Array {
  return new Uint8Array(bytes);
}

describe('HolderIndex: one holder or several', () => {
  it('peek gives the only holder itself, a Holders for several, undefined for nobody', () => {
    const index = new HolderIndex<string>();
    expect(index.peek('a')).toBeUndefined();
    index.add('a', 'p1');
    index.add('a', 'p1');
    // The same holder twice is still one holder: no Set is made for it.
    expect(index.peek('a')).toBe('p1');
    index.add('a', 'p2');
    const held = holdersOf(index, 'a');
    expect([...held.members]).toEqual(['p1', 'p2']);
    expect(held.name).toBe('a');
  });

  it('removing someone who does not hold the name changes nothing', () => {
    const index = new HolderIndex<string>();
    index.add('a', 'p1');
    index.remove('a', 'p2');
    expect(index.get('a')).toEqual(['p1']);
    expect(index.names).toBe(1);
    index.remove('b', 'p1');
    expect(index.get('a')).toEqual(['p1']);
  });

  it('one of three leaving keeps the other two; the last but one leaving gives back the holder itself', () => {
    const index = new HolderIndex<string>();
    for (const holder of ['p1', 'p2', 'p3']) index.add('a', holder);
    index.remove('a', 'p1');
    expect(index.get('a')).toEqual(['p2', 'p3']);
    expect(index.peek('a')).toBeInstanceOf(Holders);
    index.remove('a', 'p3');
    expect(index.peek('a')).toBe('p2');
    expect(index.get('a')).toEqual(['p2']);
  });
});

describe('HolderIndex: kept replies', () => {
  it('keeps a reply until a new holder comes; the same holder again keeps it', () => {
    const index = new HolderIndex<string>();
    index.add('a', 'p1');
    index.add('a', 'p2');
    const held = holdersOf(index, 'a');
    const line = reply(100);
    index.keep(held, line);
    expect(held.encoded).toBe(line);
    expect(index.encodedBytes).toBe(100);
    index.add('a', 'p2');
    expect(held.encoded).toBe(line);
    expect(index.encodedBytes).toBe(100);
    index.add('a', 'p3');
    expect(held.encoded?.length).toBeUndefined();
    expect(index.encodedBytes).toBe(0);
  });

  it('drops a reply when a holder leaves, not when someone else "leaves"', () => {
    const index = new HolderIndex<string>();
    for (const holder of ['p1', 'p2', 'p3']) index.add('a', holder);
    const held = holdersOf(index, 'a');
    index.keep(held, reply(10));
    index.remove('a', 'nobody');
    expect(index.encodedBytes).toBe(10);
    index.remove('a', 'p1');
    expect(held.encoded?.length).toBeUndefined();
    expect(index.encodedBytes).toBe(0);
    // Kept again for the two left, then dropped as the name goes back to one holder.
    const again = holdersOf(index, 'a');
    index.keep(again, reply(7));
    expect(index.encodedBytes).toBe(7);
    index.remove('a', 'p2');
    expect(index.encodedBytes).toBe(0);
  });

  it('a reply kept again for the same name replaces the old one in the count', () => {
    const index = new HolderIndex<string>();
    index.add('a', 'p1');
    index.add('a', 'p2');
    index.add('b', 'p1');
    index.add('b', 'p2');
    index.keep(holdersOf(index, 'a'), reply(30));
    index.keep(holdersOf(index, 'b'), reply(5));
    index.keep(holdersOf(index, 'a'), reply(20));
    expect(index.encodedBytes).toBe(25);
    index.add('a', 'p3');
    expect(index.encodedBytes).toBe(5);
    expect(holdersOf(index, 'b').encoded?.length).toBe(5);
  });

  it('keeps the reply of a name with thousands of holders', () => {
    // 20,000 holders' SEARCH_OK is about 400 KB: a popular name's reply must fit, or every
    // SEARCH for it encodes every address again.
    const index = new HolderIndex<number>();
    for (let holder = 0; holder < 3; holder++) index.add('popular', holder);
    const held = holdersOf(index, 'popular');
    index.keep(held, reply(400_000));
    expect(held.encoded?.length).toBe(400_000);
    expect(index.encodedBytes).toBe(400_000);
  });

  it('keeps replies up to MAX_ENCODED_BYTES together; one byte more drops all but the newest', () => {
    const index = new HolderIndex<string>();
    for (const name of ['a', 'b', 'c']) {
      index.add(name, 'p1');
      index.add(name, 'p2');
    }
    const [a, b, c] = ['a', 'b', 'c'].map((name) => holdersOf(index, name)) as [
      Holders<string>,
      Holders<string>,
      Holders<string>,
    ];
    const half = MAX_ENCODED_BYTES / 2;
    index.keep(a, reply(half));
    index.keep(b, reply(half));
    // Exactly at the budget: both kept.
    expect(index.encodedBytes).toBe(MAX_ENCODED_BYTES);
    expect(a.encoded?.length).toBe(half);
    expect(b.encoded?.length).toBe(half);
    index.keep(c, reply(1));
    expect(a.encoded?.length).toBeUndefined();
    expect(b.encoded?.length).toBeUndefined();
    expect(c.encoded?.length).toBe(1);
    expect(index.encodedBytes).toBe(1);
    // The dropped ones are no longer counted: dropping c again leaves nothing.
    index.add('c', 'p3');
    expect(index.encodedBytes).toBe(0);
  });

  it('keeps a reply of exactly MAX_ENCODED_BYTES, and none bigger (the others stay)', () => {
    const index = new HolderIndex<string>();
    for (const name of ['a', 'b']) {
      index.add(name, 'p1');
      index.add(name, 'p2');
    }
    const a = holdersOf(index, 'a');
    const b = holdersOf(index, 'b');
    index.keep(a, reply(3));
    index.keep(b, reply(MAX_ENCODED_BYTES + 1));
    expect(b.encoded?.length).toBeUndefined();
    expect(a.encoded?.length).toBe(3);
    expect(index.encodedBytes).toBe(3);
    index.keep(b, reply(MAX_ENCODED_BYTES));
    expect(b.encoded?.length).toBe(MAX_ENCODED_BYTES);
    expect(a.encoded?.length).toBeUndefined();
    expect(index.encodedBytes).toBe(MAX_ENCODED_BYTES);
  });
});
