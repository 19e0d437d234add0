/**
 * 200 gossip nodes in one process, each on its own real UDP socket on 127.0.0.1, with the seed's
 * intervals divided by 4. Each node knows one random earlier node at start (its bootstrap). The
 * test waits until the overlay has converged, then measures what each node sends.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { GossipNode } from '../../peer/gossip/gossip-node.ts';
import { DEFAULT_MAX_PEERS, defaultTargetPeers } from '../../peer/gossip/peer-table.ts';
import { seededRandom } from '../helpers/seed.ts';

const NODES = 200;
const SCALE = 4;
const HELLO_MS = 1000 / SCALE;
/** Converged: every node has reached its target of active peers (16, half its table)... */
const MIN_ACTIVE = defaultTargetPeers(DEFAULT_MAX_PEERS);
/** ...and every node can reach every other over active links. Measured over this many intervals. */
const MEASURE_INTERVALS = 8;

const nodes: GossipNode[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.close()));
});

function connected(): boolean {
  const index = new Map(nodes.map((node, i) => [node.name, i]));
  const seen = new Set([0]);
  const queue = [0];
  while (queue.length > 0) {
    for (const peer of nodes[queue.pop() as number]?.table.activePeers() ?? []) {
      const next = index.get(peer.key);
      if (next !== undefined && !seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen.size === nodes.length;
}

describe('gossip: a 200-node simulation', () => {
  it('converges to a connected overlay with bounded tables, and reports datagrams per second per node', async () => {
    // A fixed seed: every run builds the same bootstrap tree.
    const pick = seededRandom(2024);
    const activeCounts = new Array<number>(NODES).fill(0);
    let satisfied = 0;
    let onConverged: () => void = () => {};
    const converged = new Promise<void>((resolve) => {
      onConverged = resolve;
    });
    const startedAt = performance.now();
    for (let i = 0; i < NODES; i++) {
      const bootstrap = i === 0 ? undefined : nodes[Math.floor(pick() * i)]?.address;
      const node = await GossipNode.start({
        host: '127.0.0.1',
        port: 0,
        bootstrap,
        helloIntervalMs: HELLO_MS,
        requestIntervalMs: 10_000 / SCALE,
        timeoutMs: 4000 / SCALE,
        onTableChange: (changed) => {
          const before = activeCounts[i] as number;
          const now = changed.table.activePeers().length;
          activeCounts[i] = now;
          satisfied += Number(now >= MIN_ACTIVE) - Number(before >= MIN_ACTIVE);
          if (satisfied === NODES && connected()) onConverged();
        },
      });
      nodes.push(node);
    }
    await converged;
    const convergedAfter = performance.now() - startedAt;

    for (const node of nodes) {
      expect(node.table.size).toBeLessThanOrEqual(DEFAULT_MAX_PEERS);
      expect(node.table.get(node.address.host, node.address.port)).toBeUndefined();
    }

    const sentBefore = nodes.map((node) => node.stats.datagramsSent);
    const roundsBefore = nodes.map((node) => node.stats.rounds);
    const bytesBefore = nodes.reduce((sum, node) => sum + node.stats.bytesSent, 0);
    // All 200 nodes share one thread: if the machine is busy, ticks run late and the figures drop.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const measureFrom = performance.now();
    await new Promise((resolve) => setTimeout(resolve, MEASURE_INTERVALS * HELLO_MS));
    const seconds = (performance.now() - measureFrom) / 1000;
    delay.disable();
    const rates = nodes.map((node, i) => (node.stats.datagramsSent - (sentBefore[i] as number)) / seconds);
    const mean = rates.reduce((sum, rate) => sum + rate, 0) / NODES;
    const max = Math.max(...rates);
    const bytesPerNode =
      (nodes.reduce((sum, node) => sum + node.stats.bytesSent, 0) - bytesBefore) / seconds / NODES;
    // Per Hello round rather than per second: a starved process runs fewer rounds, each the same.
    const perRound = nodes.map(
      (node, i) =>
        (node.stats.datagramsSent - (sentBefore[i] as number)) /
        Math.max(1, node.stats.rounds - (roundsBefore[i] as number)),
    );
    const meanPerRound = perRound.reduce((sum, count) => sum + count, 0) / NODES;
    const active = nodes.map((node) => node.table.activePeers().length);
    const meanActive = active.reduce((sum, count) => sum + count, 0) / NODES;

    console.log(
      [
        `${NODES} nodes, intervals / ${SCALE}, max ${DEFAULT_MAX_PEERS} peers: converged (connected, every node >= ${MIN_ACTIVE} active peers) after ${(convergedAfter / 1000).toFixed(1)} s`,
        `active peers per node: mean ${meanActive.toFixed(1)}, min ${Math.min(...active)}, max ${Math.max(...active)}; full tables: ${active.filter((count) => count >= DEFAULT_MAX_PEERS).length}`,
        `datagrams sent per node per second: mean ${mean.toFixed(1)}, max ${max.toFixed(1)} (${(mean / SCALE).toFixed(1)} and ${(max / SCALE).toFixed(1)} at the seed's intervals); ${Math.round(bytesPerNode)} payload bytes/s per node`,
        `datagrams sent per node per Hello round: mean ${meanPerRound.toFixed(1)}, max ${Math.max(...perRound).toFixed(1)}`,
        `(measured over ${seconds.toFixed(2)} s; event loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms, max ${(delay.max / 1e6).toFixed(0)} ms)`,
      ].join('\n'),
    );
    // One Hello datagram per peer per round (Peer Requests ride in it) plus the answers to the
    // peers' requests: bounded by the table, whatever the size of the network. Counted per round,
    // not per second, so a busy machine that runs rounds late does not change the figure.
    expect(Math.max(...perRound)).toBeLessThanOrEqual(2 * DEFAULT_MAX_PEERS);
    expect(meanPerRound).toBeGreaterThanOrEqual(MIN_ACTIVE / 2);
    // And rounds do run: at least one per node over the measured intervals.
    for (let i = 0; i < NODES; i++) expect(nodes[i]?.stats.rounds).toBeGreaterThan(roundsBefore[i] as number);
  });
});
