/** The range receiver's life cycle at its edges: cancelled before it could even start; buffers given back early. */
import { createHash, randomBytes } from 'node:crypto';
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

  it('a unit its handler releases early goes back to the pool while the handler still waits: the next ones can arrive', async () => {
    const content = randomBytes(64);
    // An uploader that sends the 64 bytes at once, after its reply line.
    const server = net.createServer((socket) => {
      socket.once('data', () =>
        socket.end(Buffer.concat([Buffer.from('{"type":"DOWNLOAD_OK","size":64}\n'), content])),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    // One buffer of 16 bytes: each next unit needs the one before's buffer back, so the socket
    // stops and starts again three times (a buffer comes back once hashed, never at once).
    const slots = new SlotPool(16, 1);
    const units: Buffer[] = [];
    let lastArrived: () => void = () => undefined;
    const last = new Promise<void>((resolve) => (lastArrived = resolve));
    try {
      await receiveRange({
        source: { host: '127.0.0.1', port },
        file: 'f',
        offset: 0,
        length: 64,
        pieceSize: 16,
        fileSize: 64,
        slots,
        onUnit: async (piece, _position, data, end, release) => {
          units.push(Buffer.from(data));
          expect(await end?.sha256).toBe(createHash('sha256').update(data).digest('hex'));
          if (piece === 3) return lastArrived();
          // Done with the bytes, but (like a piece waiting for its hash) not done: only
          // the early release lets the next unit in; without it this range never ends.
          release();
          await last;
        },
      });
    } finally {
      server.close();
    }
    expect(Buffer.concat(units)).toEqual(content);
  });

  it('with one buffer for many units, the socket stops and starts again for each: every byte arrives, in order', async () => {
    const content = randomBytes(4 * 1024 * 1024);
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write('{"type":"DOWNLOAD_OK","size":4194304}\n');
        socket.end(content);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    // 64 units of 64 KiB through one buffer: most reads land in the unit itself and must wait
    // for it to come back, hashed and handled.
    const slots = new SlotPool(64 * 1024, 1);
    const units: Buffer[] = [];
    const pieces: string[] = [];
    try {
      await receiveRange({
        source: { host: '127.0.0.1', port },
        file: 'f',
        offset: 0,
        length: content.length,
        pieceSize: 1024 * 1024,
        fileSize: content.length,
        slots,
        onUnit: async (_piece, _position, data, end) => {
          units.push(Buffer.from(data));
          if (end) pieces.push(await end.sha256);
        },
      });
    } finally {
      server.close();
    }
    const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
    expect(sha256(Buffer.concat(units))).toBe(sha256(content));
    expect(pieces).toEqual(
      [0, 1, 2, 3].map((i) =>
        createHash('sha256')
          .update(content.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024))
          .digest('hex'),
      ),
    );
  });
});
