import { describe, expect, it } from 'vitest';
import { parseCount } from '../../shared/counts.ts';

describe('count flags', () => {
  it('takes a whole number within the range', () => {
    expect(parseCount('32', '--max-peers')).toBe(32);
    expect(parseCount(' 7 ', '--x', 1, 7)).toBe(7);
    expect(parseCount('0', '--x', 0, 3)).toBe(0);
  });

  it('refuses anything else with the range in one sentence', () => {
    for (const bad of ['', '0', '-1', '1.5', '1e3', 'ten', '8']) {
      expect(() => parseCount(bad, '--x', 1, 7), bad).toThrow(
        `--x needs an integer from 1 to 7, not ${JSON.stringify(bad)}.`,
      );
    }
  });
});
