/** The range receiver's life cycle at its edges: cancelled before it could even start. */
import { describe, expect, it } from 'vitest';
import { receiveRange } from '../../peer/transfer/range-receiver.ts';
import { SlotPool } from '../../peer/transfer/slot-pool.ts';
import { isNapError, NapError } from '../../shared/errors.ts';

describe('receiveRange', () => {
  it('cancelled while it waits for a piece buffer: rejects with the reason, once a buffer frees, never connecting', async () => {
    const slots = new SlotPool(16, 1);
    const busy = slots.acquire();
    if (!busy) throw new Error('expected the only buffer');
    const cancel = new AbortController();
    const range = receiveRange({
      // Port 9 on loopback: nothing listens; a connection attempt would fail with CONNECT_FAILED.
      source: { host: '127.0.0.1', port: 9 },
      file: 'f',
      offset: 0,
      length: 16,
      pieceSize: 16,
      fileSize: 16,
      slots,
      signal: cancel.signal,
      onUnit: async () => {},
    });
    // The download completes elsewhere while this range still waits for a buffer.
    cancel.abort(new NapError('CONNECTION_CLOSED', 'The file is complete.'));
    // Let the rejection surface: vitest fails the run on an unhandled one.
    await new Promise((resolve) => setImmediate(resolve));
    slots.release(busy);
    await expect(range).rejects.toSatisfy((error) => isNapError(error, 'CONNECTION_CLOSED'));
    // The buffer it got was given back.
    expect(slots.acquire()).toBe(busy);
  });
});
