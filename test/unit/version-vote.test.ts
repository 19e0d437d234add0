/** Which sources a download asks, and the vote on which version to fetch: decided as soon as no answer to come could change it. */
import { describe, expect, it } from 'vitest';
import { sampleInOrder } from '../../peer/transfer/source-info.ts';
import { VersionVote } from '../../peer/transfer/version-vote.ts';

describe('VersionVote', () => {
  it('is decided by more than half of the sources asked, before the others answer', () => {
    const vote = new VersionVote<string>(3);
    vote.answer(2, 'A', 'a from 2');
    expect(vote.decision()).toBeUndefined();
    vote.answer(0, 'A', 'a from 0');
    expect(vote.complete).toBe(false);
    // The first listed holder's answer stands for the version; members in list order.
    expect(vote.decision()).toEqual({ key: 'A', value: 'a from 0', members: [0, 2] });
    expect(vote.ballot(1)).toBeUndefined();
  });

  it('half is not a majority: with 2 of 4 it waits for the rest', () => {
    const vote = new VersionVote<string>(4);
    vote.answer(0, 'A', 'a');
    vote.answer(1, 'A', 'a');
    expect(vote.decision()).toBeUndefined();
    vote.answer(2, 'B', 'b');
    expect(vote.decision()).toBeUndefined();
    vote.answer(3, 'A', 'a');
    expect(vote.decision()?.members).toEqual([0, 1, 3]);
  });

  it('two sources: both must agree, or both have answered', () => {
    const vote = new VersionVote<string>(2);
    vote.answer(1, 'B', 'b');
    expect(vote.decision()).toBeUndefined();
    vote.answer(0, 'A', 'a');
    // A tie of one each: the first listed.
    expect(vote.decision()).toEqual({ key: 'A', value: 'a', members: [0] });
  });

  it('a tie goes to the version whose first holder is listed first, whatever the order of arrival', () => {
    const vote = new VersionVote<string>(4);
    // B reaches two holders before A does, and B's holders are not listed first.
    vote.answer(3, 'A', 'a');
    vote.answer(1, 'B', 'b');
    vote.answer(2, 'B', 'b');
    expect(vote.decision()).toBeUndefined();
    vote.answer(0, 'A', 'a');
    expect(vote.decision()).toEqual({ key: 'A', value: 'a', members: [0, 3] });
    expect(vote.others('A')).toEqual([{ key: 'B', value: 'b', members: [1, 2] }]);
  });

  it('failures hold no version; the most held among the answers wins once every source is in', () => {
    const vote = new VersionVote<string>(3);
    vote.fail(0, new Error('refused'));
    vote.answer(1, 'A', 'a');
    expect(vote.decision()).toBeUndefined();
    vote.fail(2, new Error('silent'));
    expect(vote.complete).toBe(true);
    expect(vote.decision()).toEqual({ key: 'A', value: 'a', members: [1] });
    expect(vote.failures().map((error) => (error as Error).message)).toEqual(['refused', 'silent']);
  });

  it('every source failed: null, with the failures in list order', () => {
    const vote = new VersionVote<string>(2);
    vote.fail(1, 'second');
    expect(vote.decision()).toBeUndefined();
    vote.fail(0, 'first');
    expect(vote.decision()).toBeNull();
    expect(vote.failures()).toEqual(['first', 'second']);
  });

  it('the most held version wins even when another one is listed first', () => {
    const vote = new VersionVote<string>(5);
    vote.answer(0, 'B', 'b');
    vote.answer(1, 'A', 'a');
    vote.answer(2, 'A', 'a');
    vote.fail(3, 'refused');
    expect(vote.decision()).toBeUndefined();
    // Asked mid-vote: a pending source and a failed one hold no version.
    expect(vote.failures()).toEqual(['refused']);
    expect(vote.others('A')).toEqual([{ key: 'B', value: 'b', members: [0] }]);
    expect(vote.others('B')).toEqual([{ key: 'A', value: 'a', members: [1, 2] }]);
    vote.answer(4, 'A', 'a');
    expect(vote.decision()).toEqual({ key: 'A', value: 'a', members: [1, 2, 4] });
  });

  it('one source is decided by its answer alone', () => {
    const vote = new VersionVote<string>(1);
    vote.answer(0, 'A', 'a');
    expect(vote.decision()).toEqual({ key: 'A', value: 'a', members: [0] });
  });

  it('a source votes once; an index outside the list does not vote', () => {
    const vote = new VersionVote<string>(3);
    vote.answer(0, 'A', 'a');
    vote.answer(0, 'A', 'a');
    vote.answer(3, 'A', 'a');
    vote.answer(-1, 'A', 'a');
    expect(vote.decision()).toBeUndefined();
    vote.fail(0, 'late');
    expect(vote.ballot(0)).toEqual({ key: 'A', value: 'a' });
    vote.answer(1, 'A', 'a');
    expect(vote.decision()?.members).toEqual([0, 1]);
    expect(vote.complete).toBe(false);
  });
});

describe('sampleInOrder (the sources a download asks)', () => {
  it('keeps every item when there are no more than asked, as a copy', () => {
    const items = ['a', 'b', 'c'];
    const sample = sampleInOrder(items, 3);
    expect(sample).toEqual(items);
    expect(sample).not.toBe(items);
    expect(sampleInOrder(items, 8)).toEqual(items);
    expect(sampleInOrder([], 8)).toEqual([]);
  });

  it('picks `count` distinct items in their order, each as likely as any other', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const picked = new Array<number>(items.length).fill(0);
    const draws = 2000;
    for (let draw = 0; draw < draws; draw++) {
      const sample = sampleInOrder(items, 8);
      expect(sample).toHaveLength(8);
      expect(new Set(sample).size).toBe(8);
      expect([...sample].sort((a, b) => a - b)).toEqual(sample);
      for (const item of sample) picked[item] = (picked[item] as number) + 1;
    }
    // Each item is in 8 of 10 samples on average; 0.1 is more than ten standard deviations.
    for (const count of picked) expect(Math.abs(count / draws - 0.8)).toBeLessThan(0.1);
  });
});
