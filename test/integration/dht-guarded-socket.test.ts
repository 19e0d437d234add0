/**
 * The DHT's guarded UDP socket over real datagrams on 127.0.0.1: what reaches the library's
 * listener (checked, re-encoded), what is dropped and counted, a listener that throws on one
 * datagram while the next ones still arrive, and a routing table one socket cannot fill.
 */

import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import bencode from 'bencode';
import { afterEach, describe, expect, it } from 'vitest';
import { DhtNode } from '../../peer/dht/dht-node.ts';
import { GuardedSocket } from '../../peer/dht/guarded-socket.ts';
import { floodKrpc } from '../helpers/krpc-flood.ts';

const ID = 'abcdefghij0123456789';
const ping = (t: string, extra: Record<string, unknown> = {}) =>
  Buffer.from(bencode.encode({ t, y: 'q', q: 'ping', a: { id: ID }, ...extra }));

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function bound(socket: GuardedSocket): Promise<number> {
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => socket.close(resolve)));
  return socket.address().port;
}

async function sender(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => socket.close(() => resolve())));
  return socket;
}

/** Resolves with the next `count` datagrams the socket's listener gets. */
function delivered(socket: GuardedSocket, count: number, throwOn?: string): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    socket.on('message', (data: Buffer) => {
      const t = (bencode.decode(data) as { t: Uint8Array }).t;
      if (throwOn !== undefined && Buffer.from(t).toString() === throwOn) {
        // What bittorrent-dht does with a field of the wrong type.
        throw new TypeError('id is not a Uint8Array');
      }
      got.push(data);
      if (got.length === count) resolve(got);
    });
  });
}

describe('the guarded DHT socket', () => {
  it('passes checked datagrams as canonical bytes, drops malformed ones, and counts both', async () => {
    const malformed: string[] = [];
    const socket = new GuardedSocket({ onMalformed: (error) => malformed.push((error as Error).message) });
    const port = await bound(socket);
    const client = await sender();
    const arrived = delivered(socket, 2);
    client.send(ping('aa', { v: 'LT01' }), port, '127.0.0.1');
    client.send(Buffer.from('d1:ad2:id3:abce1:q4:ping1:t2:bb1:y1:qe', 'latin1'), port, '127.0.0.1');
    client.send(ping('cc'), port, '127.0.0.1');
    // The client version `v` is not a field the library reads: it never reaches it.
    expect(await arrived).toEqual([ping('aa'), ping('cc')]);
    expect(socket.stats).toEqual({ received: 3, malformed: 1, failed: 0 });
    expect(malformed).toEqual(['Malformed KRPC: ping query: id is a 3-byte string, not a 20-byte string.']);
  });

  it('contains a throw of the listener for that datagram alone', async () => {
    const failures: string[] = [];
    const socket = new GuardedSocket({ onFailure: (error) => failures.push((error as Error).message) });
    const port = await bound(socket);
    const client = await sender();
    const arrived = delivered(socket, 2, 'bb');
    for (const t of ['aa', 'bb', 'cc']) client.send(ping(t), port, '127.0.0.1');
    expect(await arrived).toEqual([ping('aa'), ping('cc')]);
    expect(socket.stats).toEqual({ received: 3, malformed: 0, failed: 1 });
    expect(failures).toEqual(['id is not a Uint8Array']);
  });

  it('turns a send that dgram refuses synchronously into the callback error', async () => {
    const socket = new GuardedSocket();
    await bound(socket);
    const data = ping('aa');
    const error = await new Promise<Error | null>((resolve) =>
      socket.send(data, 0, data.length, 0, '127.0.0.1', (failure) => resolve(failure)),
    );
    expect((error as NodeJS.ErrnoException).code).toBe('ERR_SOCKET_BAD_PORT');
  });
});

describe('the routing table', () => {
  it('keeps one entry per address:port, however many ids it uses', async () => {
    const node = await DhtNode.start({ host: '127.0.0.1', port: 0, bootstrap: { kind: 'none' } });
    closers.push(() => node.close());
    const forged = Array.from({ length: 200 }, (_, i) =>
      Buffer.from(bencode.encode({ t: `f${i}`, y: 'q', q: 'ping', a: { id: randomBytes(20) } })),
    );
    // Another node, on a socket of its own, open all along.
    const other = await sender();
    // One socket, 200 ids (each ping is answered, so every one was handled), then the other node.
    expect((await floodKrpc(forged, { port: node.port, batch: 50 })).sent).toBe(200);
    expect(node.nodeCount).toBe(1);
    const answered = new Promise((resolve) => other.once('message', resolve));
    other.send(ping('zz'), node.port, '127.0.0.1');
    await answered;
    expect(node.nodeCount).toBe(2);
    // Answers nobody asked for, under forged ids, do not add entries either.
    for (let i = 0; i < 100; i++) {
      const answer = Buffer.from(bencode.encode({ t: 'zz', y: 'r', r: { id: randomBytes(20) } }));
      other.send(answer, node.port, '127.0.0.1');
    }
    const pong = new Promise((resolve) => other.once('message', resolve));
    other.send(ping('yy'), node.port, '127.0.0.1');
    await pong;
    expect(node.nodeCount).toBe(2);
    expect(node.datagrams).toMatchObject({ malformed: 0, failed: 0 });
  });
});
