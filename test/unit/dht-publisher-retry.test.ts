import { describe, expect, it } from 'vitest';
import { RETRY_FIRST_MS, RETRY_MAX_MS, retryDelayMs } from '../../peer/dht/publisher.ts';

describe('retries of keys no node took', () => {
  it('wait 1 s, then twice as long each time, at most 60 s', () => {
    expect([RETRY_FIRST_MS, RETRY_MAX_MS]).toEqual([1000, 60_000]);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100].map((attempt) => retryDelayMs(attempt))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
    expect(retryDelayMs(3, 200, 1000)).toBe(1000);
  });
});
