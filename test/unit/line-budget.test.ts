/** The per-second budget of printed lines: what goes through, what is counted, the one summary. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LineBudget } from '../../peer/line-budget.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function budget(perWindow: number) {
  const printed: string[] = [];
  const lines = new LineBudget({
    perWindow,
    print: (line) => printed.push(line),
    summarise: (hidden) => `(${hidden} more)`,
    now: () => Date.now(),
  });
  return { printed, lines };
}

describe('LineBudget', () => {
  it('prints the first lines of a window and one summary of the rest when the window ends', () => {
    const { printed, lines } = budget(3);
    const shown = Array.from({ length: 3000 }, (_, i) => lines.offer(`line ${i}`));
    expect(shown.filter(Boolean)).toHaveLength(3);
    expect(printed).toEqual(['line 0', 'line 1', 'line 2']);
    vi.advanceTimersByTime(999);
    expect(printed).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(printed).toEqual(['line 0', 'line 1', 'line 2', '(2997 more)']);
    // Nothing more to say: no second summary.
    vi.advanceTimersByTime(5000);
    expect(printed).toHaveLength(4);
  });

  it('starts a fresh budget each window', () => {
    const { printed, lines } = budget(2);
    for (let second = 0; second < 3; second++) {
      for (let i = 0; i < 5; i++) lines.offer(`s${second} ${i}`);
      vi.advanceTimersByTime(1000);
    }
    expect(printed).toEqual([
      's0 0',
      's0 1',
      '(3 more)',
      's1 0',
      's1 1',
      '(3 more)',
      's2 0',
      's2 1',
      '(3 more)',
    ]);
  });

  it('within the budget, prints every line and no summary', () => {
    const { printed, lines } = budget(10);
    for (let i = 0; i < 10; i++) lines.offer(`${i}`);
    vi.advanceTimersByTime(10_000);
    expect(printed).toHaveLength(10);
  });

  it('flush says at once how many were not shown', () => {
    const { printed, lines } = budget(1);
    lines.offer('a');
    lines.offer('b');
    lines.flush();
    expect(printed).toEqual(['a', '(1 more)']);
  });
});
