/** When the gossip table is printed: at once after a quiet interval, else once at its end. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TablePrinter } from '../../peer/gossip/table-printer.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function printer(intervalMs = 1000) {
  const printedAt: number[] = [];
  const start = Date.now();
  const table = new TablePrinter(
    intervalMs,
    () => printedAt.push(Date.now() - start),
    () => Date.now(),
  );
  return { printedAt, table };
}

describe('TablePrinter', () => {
  it('prints the first change at once and coalesces the next ones into one print per interval', () => {
    const { printedAt, table } = printer();
    table.changed();
    expect(printedAt).toEqual([0]);
    // 200 newcomers within 300 ms: one print, when the interval ends.
    for (let i = 0; i < 200; i++) {
      vi.advanceTimersByTime(1.5);
      table.changed();
    }
    expect(printedAt).toEqual([0]);
    vi.advanceTimersByTime(700);
    expect(printedAt).toEqual([0, 1000]);
  });

  it('prints nothing when nothing changed, and at once after a quiet interval', () => {
    const { printedAt, table } = printer();
    table.changed();
    vi.advanceTimersByTime(5000);
    expect(printedAt).toEqual([0]);
    table.changed();
    expect(printedAt).toEqual([0, 5000]);
  });

  it('prints at most once per interval under constant change', () => {
    const { printedAt, table } = printer(200);
    for (let t = 0; t < 2000; t += 10) {
      table.changed();
      vi.advanceTimersByTime(10);
    }
    expect(printedAt).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000]);
  });

  it('prints a change still waiting when closed, and nothing after', () => {
    const { printedAt, table } = printer();
    table.changed();
    vi.advanceTimersByTime(100);
    table.changed();
    table.close();
    expect(printedAt).toEqual([0, 100]);
    table.changed();
    vi.advanceTimersByTime(5000);
    expect(printedAt).toEqual([0, 100]);
  });
});
