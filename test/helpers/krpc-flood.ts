/**
 * Sends datagrams to a DHT node over real UDP, paced so that none is lost in a socket buffer:
 * after each batch, a ping that the node must answer before the next batch leaves. One socket
 * sends everything, so when the ping's answer arrives the node has read every datagram before it
 * (a node that died or stopped answering fails the flood at once, saying after how many).
 */

import dgram from 'node:dgram';
import bencode from 'bencode';

export interface FloodOptions {
  host?: string;
  port: number;
  /** Datagrams between two pings: small enough to fit the node's receive buffer. */
  batch?: number;
  /** How long the node has to answer each ping. */
  answerTimeoutMs?: number;
}

export interface FloodResult {
  /** Datagrams sent, not counting the pings. */
  sent: number;
  /** Pings answered (one per batch). */
  answered: number;
  /** Bytes sent, not counting the pings. */
  bytes: number;
}

const PINGER_ID = Buffer.from('napshare-krpc-flood!', 'latin1');

export async function floodKrpc(datagrams: Iterable<Buffer>, options: FloodOptions): Promise<FloodResult> {
  const host = options.host ?? '127.0.0.1';
  const batch = options.batch ?? 100;
  const answerTimeoutMs = options.answerTimeoutMs ?? 10_000;
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  let waiting: { t: Buffer; resolve: () => void } | undefined;
  socket.on('message', (data) => {
    if (!waiting) return;
    try {
      const answer = bencode.decode(data) as { t?: Uint8Array; y?: Uint8Array };
      if (
        answer.t &&
        Buffer.from(answer.t).equals(waiting.t) &&
        Buffer.from(answer.y ?? []).toString() === 'r'
      )
        waiting.resolve();
    } catch {
      // The node's answers to fuzzed queries are not ours to read.
    }
  });
  const result: FloodResult = { sent: 0, answered: 0, bytes: 0 };
  const pingAnswered = async () => {
    const t = Buffer.alloc(4);
    t.writeUInt32BE(result.answered);
    const ping = Buffer.from(bencode.encode({ t, y: 'q', q: 'ping', a: { id: PINGER_ID } }));
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        waiting = { t, resolve };
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `the DHT node did not answer a ping within ${answerTimeoutMs} ms after ${result.sent} datagrams`,
              ),
            ),
          answerTimeoutMs,
        );
        socket.send(ping, options.port, host);
      });
      result.answered++;
    } finally {
      clearTimeout(timer);
      waiting = undefined;
    }
  };
  try {
    let inBatch = 0;
    for (const datagram of datagrams) {
      socket.send(datagram, options.port, host);
      result.sent++;
      result.bytes += datagram.length;
      if (++inBatch === batch) {
        inBatch = 0;
        await pingAnswered();
      }
    }
    // The last datagrams too are read before the flood is over.
    if (inBatch > 0 || result.sent === 0) await pingAnswered();
    return result;
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
