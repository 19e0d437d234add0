/** The range receiver's life cycle at its edges: cancelled before it could even start; buffers given back early. */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
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

  it('a unit its handler releases early goes back to the pool while the handler still waits: the next one can arrive', async () => {
    const content = randomBytes(32);
    // An uploader that sends the 32 bytes at once, after its reply line.
    const server = net.createServer((socket) => {
      socket.once('data', () =>
        socket.end(Buffer.concat([Buffer.from('{"type":"DOWNLOAD_OK","size":32}\n'), content])),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    // One buffer of 16 bytes: the second unit needs the first one's buffer back.
    const slots = new SlotPool(16, 1);
    const units: Buffer[] = [];
    let secondArrived: () => void = () => undefined;
    const second = new Promise<void>((resolve) => (secondArrived = resolve));
    try {
      await receiveRange({
        source: { host: '127.0.0.1', port },
        file: 'f',
        offset: 0,
        length: 32,
        pieceSize: 16,
        fileSize: 32,
        slots,
        onUnit: async (piece, _position, data, _end, release) => {
          units.push(Buffer.from(data));
          if (piece === 1) return secondArrived();
          // Done with the bytes, but (like a piece waiting for its hash) not done: only
          // the early release lets the second unit in; without it this range never ends.
          release();
          await second;
        },
      });
    } finally {
      server.close();
    }
    expect(Buffer.concat(units)).toEqual(content);
  });
});
