/**
 * A gossip node over real UDP sockets on 127.0.0.1, talked to by "foreign" peers: raw dgram
 * sockets sending bytes written by hand from the seed's diagrams (seed 004), never through
 * napshare's codec, and reading the node's datagrams byte by byte.
 */
import dgram from 'node:dgram';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { GossipNode, type GossipNodeOptions } from '../../peer/gossip/gossip-node.ts';
import { expectSeedIntervals, measureGossipIntervals } from '../helpers/gossip-intervals.ts';

const HELLO = [104, 1, 1, 2];
const PEER_REQUEST = [104, 1, 2, 2];
/** Peer Address TLV as drawn in seed 004, 1.5: type 3, length 8, port (big-endian), IPv4. */
const peerAddressTlv = (ip: string, port: number) => [
  3,
  8,
  port >> 8,
  port & 0xff,
  ...ip.split('.').map(Number),
];

/** Short intervals keeping the seed's ratios (1 s : 10 s : 4 s). */
const FAST = { helloIntervalMs: 50, requestIntervalMs: 500, timeoutMs: 200 };

interface Raw {
  socket: dgram.Socket;
  port: number;
  received: Buffer[];
  send(bytes: number[] | Buffer, port: number): void;
  /** Resolves with the first datagram (seen or future) that `test` accepts. */
  next(test: (data: Buffer) => boolean): Promise<Buffer>;
}

const opened: { close(): unknown }[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close()));
});

async function rawPeer(): Promise<Raw> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const received: Buffer[] = [];
  const waiters: { test: (data: Buffer) => boolean; resolve: (data: Buffer) => void }[] = [];
  socket.on('message', (data) => {
    received.push(data);
    for (const waiter of waiters.splice(0)) {
      if (waiter.test(data)) waiter.resolve(data);
      else waiters.push(waiter);
    }
  });
  opened.push({ close: () => new Promise<void>((resolve) => socket.close(() => resolve())) });
  return {
    socket,
    port: socket.address().port,
    received,
    send: (bytes, port) => socket.send(Buffer.from(bytes), port, '127.0.0.1'),
    next: (test) => {
      const seen = received.find(test);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

/** A node on 127.0.0.1:0 whose table changes can be awaited. */
async function startNode(options: Partial<GossipNodeOptions> = {}) {
  const listeners = new Set<() => void>();
  const node = await GossipNode.start({
    host: '127.0.0.1',
    port: 0,
    ...FAST,
    ...options,
    onTableChange: () => {
      for (const listener of [...listeners]) listener();
    },
  });
  opened.push(node);
  const states = () => new Map(node.table.view().map((row) => [`${row.host}:${row.port}`, row.state]));
  const until = (test: (states: Map<string, string>) => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!test(states())) return;
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      check();
    });
  return { node, states, until };
}

/**
 * The node greets every address it learns: fuzz samples whose bytes would read as a Peer Address
 * outside 127.0.0.0/8 are left out, so no test ever sends a datagram off this machine. (A plain
 * scan of the seed's framing, independent of napshare's codec.)
 */
function onlyLoopbackAddresses(data: Uint8Array): boolean {
  if (data[0] !== 104 || data[1] !== 1) return true;
  for (let at = 2; at + 2 <= data.length; ) {
    const length = data[at + 1] as number;
    if (length < 2 || at + length > data.length) return true;
    if (data[at] === 3 && length >= 8 && data[at + 4] !== 127) return false;
    at += length;
  }
  return true;
}

/** Greets like a real peer, once per Hello interval (UDP may drop any single datagram), until `done`. */
async function greetUntil<T>(raw: Raw, port: number, done: Promise<T>): Promise<T> {
  raw.send(HELLO, port);
  const timer = setInterval(() => raw.send(HELLO, port), FAST.helloIntervalMs);
  try {
    return await done;
  } finally {
    clearInterval(timer);
  }
}

const isHello = (data: Buffer) => data.subarray(0, 4).equals(Buffer.from(HELLO));
const hasPeerAddress = (data: Buffer) => data[2] === 3;

describe("gossip node: the seed's intervals are the defaults (seed 004, 1)", () => {
  it('with no interval options, greets every 1 s, asks every 10 s and drops a peer silent for 4 s', async () => {
    const { node, until } = await startNode({
      helloIntervalMs: undefined,
      requestIntervalMs: undefined,
      timeoutMs: undefined,
      // One active peer is enough: the node stops seeking, so Peer Requests keep to schedule.
      targetPeers: 1,
    });
    const measured = await measureGossipIntervals(node.address.port, (address) =>
      until((states) => !states.has(address)),
    );
    console.log(`gossip node defaults measured: ${JSON.stringify(measured)}`);
    expectSeedIntervals(measured);
  }, 45_000);
});

describe('gossip node: a foreign implementation is understood', () => {
  it('adds a peer that sends a hand-written Hello, and says Hello back with a Peer Request', async () => {
    const { node, until } = await startNode();
    const foreign = await rawPeer();
    foreign.send(HELLO, node.address.port);
    await until((states) => states.get(`127.0.0.1:${foreign.port}`) === 'active');
    // The first datagram to a new peer carries Hello then Peer Request: 68 01 01 02 02 02.
    expect(await foreign.next(isHello)).toEqual(Buffer.from([104, 1, 1, 2, 2, 2]));
  });

  it('answers a Peer Request with the exact Peer Address bytes of its other active peers', async () => {
    const { node, until } = await startNode();
    const asker = await rawPeer();
    const other = await rawPeer();
    other.send(HELLO, node.address.port);
    asker.send(HELLO, node.address.port);
    await until((states) => [...states.values()].filter((state) => state === 'active').length === 2);
    asker.send(PEER_REQUEST, node.address.port);
    const answer = await asker.next(hasPeerAddress);
    // Only the other peer: never the asker itself, never the node itself.
    expect(answer).toEqual(Buffer.from([104, 1, ...peerAddressTlv('127.0.0.1', other.port)]));
  });

  it('greets an address learned from a Peer Address TLV, and ignores its own address', async () => {
    const { node, states, until } = await startNode();
    const teller = await rawPeer();
    const told = await rawPeer();
    teller.send(
      [
        104,
        1,
        ...[1, 2],
        ...peerAddressTlv('127.0.0.1', told.port),
        ...peerAddressTlv('127.0.0.1', node.address.port),
        ...[42, 3, 0], // an unknown TLV, skipped by its length
      ],
      node.address.port,
    );
    expect(await told.next(isHello)).toEqual(Buffer.from([104, 1, 1, 2, 2, 2]));
    told.send(HELLO, node.address.port);
    await until((s) => s.get(`127.0.0.1:${told.port}`) === 'active');
    expect([...states().keys()].sort()).toEqual(
      [`127.0.0.1:${teller.port}`, `127.0.0.1:${told.port}`].sort(),
    );
  });

  it('keeps what precedes a bad Length and drops the rest of that datagram', async () => {
    const { node, states, until } = await startNode();
    const teller = await rawPeer();
    const after = await rawPeer();
    // Hello, then a TLV of length 1 (stops parsing), then a Peer Address that must not be read.
    teller.send([104, 1, 1, 2, 7, 1, ...peerAddressTlv('127.0.0.1', after.port)], node.address.port);
    await until((s) => s.get(`127.0.0.1:${teller.port}`) === 'active');
    expect(states().has(`127.0.0.1:${after.port}`)).toBe(false);
  });
});

describe('gossip node: looking for peers', () => {
  it('asks an active peer each tick while below its target, and on the seed schedule once there', async () => {
    const { node, until } = await startNode({
      targetPeers: 2,
      requestIntervalMs: 100 * FAST.helloIntervalMs,
    });
    const first = await rawPeer();
    const second = await rawPeer();
    const isActive = (raw: Raw) => (s: Map<string, string>) => s.get(`127.0.0.1:${raw.port}`) === 'active';
    const greetFirst = setInterval(() => first.send(HELLO, node.address.port), FAST.helloIntervalMs);
    try {
      await until(isActive(first));
      // One active peer, target 2: every Hello datagram to it carries a Peer Request.
      const seen = first.received.length;
      await first.next(() => first.received.length >= seen + 4);
      expect(first.received.slice(seen, seen + 4).map((d) => d.length)).toEqual([6, 6, 6, 6]);
      // Target reached: Hellos alone (the next scheduled request is 100 intervals away).
      await greetUntil(second, node.address.port, until(isActive(second)));
      const greetSecond = setInterval(() => second.send(HELLO, node.address.port), FAST.helloIntervalMs);
      try {
        const after = first.received.length + 1;
        await first.next(() => first.received.length >= after + 4);
        expect(first.received.slice(after, after + 4).map((d) => d.length)).toEqual([4, 4, 4, 4]);
      } finally {
        clearInterval(greetSecond);
      }
    } finally {
      clearInterval(greetFirst);
    }
  });
});

describe('gossip node: hostile input', () => {
  it('survives random, truncated and wrongly headed datagrams, then still works', async () => {
    const log: string[] = [];
    const logWaiters: { pattern: RegExp; resolve: () => void }[] = [];
    const { node, states, until } = await startNode({
      log: (message) => {
        log.push(message);
        for (const waiter of logWaiters) if (waiter.pattern.test(message)) waiter.resolve();
      },
    });
    const logged = (pattern: RegExp) => new Promise<void>((resolve) => logWaiters.push({ pattern, resolve }));
    const attacker = await rawPeer();
    const valid = Buffer.from([104, 1, 1, 2, 2, 2, ...peerAddressTlv('127.1.2.3', 4200)]);
    const garbage = [
      ...fc.sample(fc.uint8Array({ maxLength: 1400 }), { numRuns: 300, seed: 7 }),
      ...fc
        .sample(fc.uint8Array({ maxLength: 100 }), { numRuns: 300, seed: 8 })
        .map((b) => Buffer.concat([Buffer.from([104, 1]), b])),
      ...Array.from({ length: valid.length }, (_, n) => valid.subarray(0, n)),
    ].filter(onlyLoopbackAddresses);
    for (const datagram of garbage) attacker.send(Buffer.from(datagram), node.address.port);
    const witness = await rawPeer();
    await greetUntil(
      witness,
      node.address.port,
      until((s) => s.get(`127.0.0.1:${witness.port}`) === 'active'),
    );
    expect(node.stats.datagramsIgnored).toBeGreaterThan(0);
    expect(node.table.size).toBeLessThanOrEqual(32);

    // A Hello with Version 2, or Magic 105, is no Hello: its sender is never added.
    const stranger = await rawPeer();
    for (const [bytes, header] of [
      [[104, 2, 1, 2], '6802'],
      [[105, 1, 1, 2], '6901'],
    ] as const) {
      const seen = logged(
        new RegExp(`ignored 4 bytes from 127\\.0\\.0\\.1:${stranger.port}: .*header ${header}`),
      );
      const timer = setInterval(() => stranger.send([...bytes], node.address.port), FAST.helloIntervalMs);
      stranger.send([...bytes], node.address.port);
      await seen.finally(() => clearInterval(timer));
    }
    expect(states().has(`127.0.0.1:${stranger.port}`)).toBe(false);
  });

  it('bounds its table and its Hello traffic under a flood of Peer Address TLVs', async () => {
    const maxPeers = 16;
    const { node } = await startNode({ maxPeers });
    const flooder = await rawPeer();
    for (let d = 0; d < 20; d++) {
      // Loopback addresses nobody listens on: the node's Hellos to them stay on this machine.
      const tlvs = Array.from({ length: 174 }, (_, i) => peerAddressTlv(`127.${d + 1}.${i}.1`, 9)).flat();
      flooder.send([104, 1, ...tlvs], node.address.port);
    }
    const witness = await rawPeer();
    await greetUntil(witness, node.address.port, witness.next(isHello));
    const before = node.stats.datagramsSent;
    const hellosBefore = witness.received.filter(isHello).length;
    // Four Hello intervals: at most maxPeers datagrams each (no Peer Request answers were asked).
    await witness.next(() => witness.received.filter(isHello).length >= hellosBefore + 4);
    expect(node.table.size).toBeLessThanOrEqual(maxPeers);
    expect(node.stats.datagramsSent - before).toBeLessThanOrEqual(5 * maxPeers);
  });

  it('never forwards an unheard address in a Peer Request answer', async () => {
    const { node, until } = await startNode();
    const liar = await rawPeer();
    const asker = await rawPeer();
    liar.send([104, 1, 1, 2, ...peerAddressTlv('127.9.9.9', 9)], node.address.port);
    asker.send(HELLO, node.address.port);
    await until((s) => s.get('127.9.9.9:9') === 'pending' && s.get(`127.0.0.1:${asker.port}`) === 'active');
    asker.send(PEER_REQUEST, node.address.port);
    expect(await asker.next(hasPeerAddress)).toEqual(
      Buffer.from([104, 1, ...peerAddressTlv('127.0.0.1', liar.port)]),
    );
  });
});

describe('gossip node: lists and timeouts', () => {
  it('splits an answer of 179 peers into a 1394-byte and a 42-byte datagram', async () => {
    const { node, until } = await startNode({ maxPeers: 200, timeoutMs: 5000, helloIntervalMs: 1000 });
    const peers = await Promise.all(Array.from({ length: 180 }, () => rawPeer()));
    for (const peer of peers) peer.send(HELLO, node.address.port);
    await until((states) => states.size === 180);
    const asker = peers[0] as Raw;
    asker.send(PEER_REQUEST, node.address.port);
    const first = await asker.next(hasPeerAddress);
    const second = await asker.next((data) => hasPeerAddress(data) && data !== first);
    expect([first.length, second.length]).toEqual([1394, 42]);
    const listed = new Set<number>();
    for (const datagram of [first, second]) {
      expect(datagram.subarray(0, 2)).toEqual(Buffer.from([104, 1]));
      for (let at = 2; at < datagram.length; at += 8) {
        expect([...datagram.subarray(at, at + 2), ...datagram.subarray(at + 4, at + 8)]).toEqual([
          3, 8, 127, 0, 0, 1,
        ]);
        listed.add(datagram.readUInt16BE(at + 2));
      }
    }
    expect([...listed].sort()).toEqual(
      peers
        .slice(1)
        .map((peer) => peer.port)
        .sort(),
    );
  });

  it('drops a peer silent for the timeout while another is active, keeps the last one alone', async () => {
    const { node, states, until } = await startNode();
    const silent = await rawPeer();
    const chatty = await rawPeer();
    // Measured from the silent peer's only Hello (same clock as the node's): it must not be
    // dropped sooner than the timeout after it, however late the test notices anything.
    const since = performance.now();
    silent.send(HELLO, node.address.port);
    const timer = setInterval(() => chatty.send(HELLO, node.address.port), FAST.helloIntervalMs);
    try {
      await until((s) => s.get(`127.0.0.1:${chatty.port}`) === 'active' && s.has(`127.0.0.1:${silent.port}`));
      await until((s) => !s.has(`127.0.0.1:${silent.port}`));
      const took = performance.now() - since;
      expect(took).toBeGreaterThanOrEqual(FAST.timeoutMs);
    } finally {
      clearInterval(timer);
    }
    // Now chatty is silent too and is the only peer: kept, inactive, still greeted.
    await until((s) => s.get(`127.0.0.1:${chatty.port}`) === 'inactive');
    const greeted = chatty.received.length;
    await chatty.next(() => chatty.received.length > greeted + 1);
    expect(states().size).toBe(1);
    expect(node.table.view()[0]?.state).toBe('inactive');
  });

  it('does not judge its peers on a tick that came late (a stalled or suspended process)', async () => {
    const log: string[] = [];
    const waiters: { pattern: RegExp; resolve: () => void }[] = [];
    const { node, states, until } = await startNode({
      minPeers: 0,
      log: (message) => {
        log.push(message);
        for (const waiter of waiters) if (waiter.pattern.test(message)) waiter.resolve();
      },
    });
    const peers = [await rawPeer(), await rawPeer()];
    const bothActive = (s: Map<string, string>) =>
      peers.every((peer) => s.get(`127.0.0.1:${peer.port}`) === 'active');
    for (const peer of peers) peer.send(HELLO, node.address.port);
    await until(bothActive);
    const postponed = new Promise<void>((resolve) => waiters.push({ pattern: /expiry postponed/, resolve }));
    // The whole process stalls three timeouts long: nobody sends, nobody reads.
    const stallEnd = performance.now() + 3 * FAST.timeoutMs;
    while (performance.now() < stallEnd) {
      // busy: this is the stall being tested
    }
    await postponed;
    // The peers speak again after the late tick: they were never removed, so nothing changed.
    const heard = peers.map(
      (peer) =>
        new Promise<void>((resolve) =>
          waiters.push({
            pattern: new RegExp(`recv 4 bytes from 127\\.0\\.0\\.1:${peer.port}: hello`),
            resolve,
          }),
        ),
    );
    for (const peer of peers) peer.send(HELLO, node.address.port);
    await Promise.all(heard);
    expect(bothActive(states())).toBe(true);
    expect(log.filter((line) => line.startsWith('removed'))).toEqual([]);
  });
});
