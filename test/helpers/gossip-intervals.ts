/**
 * Measures from outside, over real UDP on 127.0.0.1, the intervals a gossip node really uses (seed
 * 004, 1: a Hello every second, a Peer Request every 10 s, a peer silent for 4 s is inactive), so a
 * test can check the defaults in force rather than constants. Two hand-written peers: a keeper that
 * greets the node every second, as the seed's peers do, and records what the node sends it; and a
 * silent one that greets the node once. The node must aim at one active peer (target 1), so that
 * Peer Requests follow the schedule instead of being sent on every tick while it seeks peers.
 */
import dgram from 'node:dgram';
import { expect } from 'vitest';
import { withDeadline } from './wait.ts';

const HELLO = Buffer.from([104, 1, 1, 2]);
/** The seed's pace for the keeper's own Hellos. */
const KEEPER_HELLO_MS = 1000;
/** Generous: the slowest thing measured is a 10 s interval, which a wrong default would stretch. */
const MEASURE_DEADLINE_MS = 30_000;

export interface GossipIntervals {
  /** Mean gap between the node's datagrams to one peer (one per tick), over about ten ticks. */
  helloIntervalMs: number;
  /** Gap between the node's first and second Peer Request to the keeper. */
  requestIntervalMs: number;
  /** From the silent peer's only Hello (sent by the test: never after the node got it) to its removal. */
  silentRemovedAfterMs: number;
}

interface RawPeer {
  socket: dgram.Socket;
  address: string;
  /** Every datagram from the node, with the test's clock when it arrived. */
  received: { at: number; data: Buffer }[];
  /** Resolves once `test` holds for the datagrams received so far. */
  until(test: () => boolean, what: string): Promise<void>;
}

async function rawPeer(): Promise<RawPeer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const received: RawPeer['received'] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    received.push({ at: performance.now(), data });
    for (const check of [...waiters]) check();
  });
  const until = (test: () => boolean, what: string) =>
    withDeadline(
      new Promise<void>((resolve) => {
        const check = () => {
          if (!test()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
      MEASURE_DEADLINE_MS,
      what,
    );
  return { socket, address: `127.0.0.1:${socket.address().port}`, received, until };
}

const close = (socket: dgram.Socket) => new Promise<void>((resolve) => socket.close(() => resolve()));

/**
 * Runs both peers against the node at 127.0.0.1:`nodePort`. `removed(address)` must resolve once
 * the node no longer lists that peer (it is called once the node has greeted it, so it is listed).
 */
export async function measureGossipIntervals(
  nodePort: number,
  removed: (address: string) => Promise<void>,
): Promise<GossipIntervals> {
  const keeper = await rawPeer();
  const silent = await rawPeer();
  const greet = (peer: RawPeer) => peer.socket.send(HELLO, nodePort, '127.0.0.1');
  greet(keeper);
  const beat = setInterval(() => greet(keeper), KEEPER_HELLO_MS);
  try {
    const silentSentAt = performance.now();
    greet(silent);
    // The node greets back a peer it has added: then it is in the table.
    await silent.until(
      () => silent.received.length > 0,
      `the node's Hello to the silent peer ${silent.address}`,
    );
    await removed(silent.address);
    const silentRemovedAfterMs = performance.now() - silentSentAt;

    // Hello, then a Peer Request in the same datagram: 68 01 01 02 02 02.
    const requests = () => keeper.received.filter(({ data }) => data.length === 6 && data[4] === 2);
    await keeper.until(() => requests().length >= 2, `a second Peer Request to the keeper ${keeper.address}`);
    const [first, second] = requests();
    const hellos = keeper.received.filter(({ data }) => data.subarray(0, 4).equals(HELLO));
    const span = (hellos.at(-1)?.at ?? 0) - (hellos[0]?.at ?? 0);
    return {
      helloIntervalMs: span / Math.max(1, hellos.length - 1),
      requestIntervalMs: (second?.at ?? 0) - (first?.at ?? 0),
      silentRemovedAfterMs,
    };
  } finally {
    clearInterval(beat);
    await Promise.all([close(keeper.socket), close(silent.socket)]);
  }
}

/**
 * The seed's intervals, as measured. Lower bounds: timers never fire early. Upper bounds: room for
 * a loaded machine, yet below what the next plausible wrong value (3 s, 20 s, 10 s) would give.
 */
export function expectSeedIntervals(measured: GossipIntervals): void {
  expect(measured.helloIntervalMs).toBeGreaterThanOrEqual(900);
  expect(measured.helloIntervalMs).toBeLessThan(2500);
  expect(measured.requestIntervalMs).toBeGreaterThanOrEqual(9000);
  expect(measured.requestIntervalMs).toBeLessThan(15_000);
  expect(measured.silentRemovedAfterMs).toBeGreaterThanOrEqual(4000);
  expect(measured.silentRemovedAfterMs).toBeLessThan(8000);
}
