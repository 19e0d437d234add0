/**
 * `npm run bench -- index --versions DIR,DIR,...`: what each change to the index server gave.
 * Each DIR is a checkout of napshare (`git archive COMMIT | tar -x -C DIR`, with this checkout's
 * node_modules linked in); their servers take turns, round after round, on the same population:
 * load through real JOINs (index-crowd.ts), then SEARCH from 50 connections at 1 and 16 in flight
 * (the load client of the index bench), stdout to /dev/null. Printed per version and round: load
 * time, RSS before and after the load, req/s and server CPU per request. See docs/performance.md,
 * "Index server".
 */
import path from 'node:path';
import { cpuSecondsOf, memoryOf, ServerProcess } from './bench-process.ts';
import { type IndexBenchOptions, loadCrowd } from './index-bench.ts';
import { peerIp, population } from './index-names.ts';
import { LineCounter, openConnections, runLoad } from './load-client.ts';
import { searchChecks } from './search-checks.ts';
import { MiB } from './stats.ts';

/** As in the index bench: the same population, connections and warm-up. */
const SEED = 16;
const SEARCH_CONNECTIONS = 50;
const WARMUP_SECONDS = 1;

export async function indexVersionsBench(
  options: IndexBenchOptions & { versions: string[] },
): Promise<string> {
  const { files, queries } = population(SEED, options.peers, options.filesPerPeer);
  const requests = queries.map((file) => Buffer.from(`${JSON.stringify({ type: 'SEARCH', file })}\n`));
  const lines: string[] = [];
  for (let round = 1; round <= options.runs; round++) {
    for (const root of options.versions) {
      const line = await measureVersion(path.resolve(root), options, files, queries, requests);
      options.log(`round ${round}: ${line}`);
      lines.push(`round ${round}: ${line}`);
    }
  }
  return [
    `Index server versions: ${options.peers} peers x ${options.filesPerPeer} files, SEARCH ${options.seconds} s each from ${SEARCH_CONNECTIONS} connections, stdout to /dev/null`,
    'in flight: req/s, server CPU per request',
    ...lines,
  ].join('\n');
}

async function measureVersion(
  root: string,
  options: IndexBenchOptions,
  files: string[][],
  queries: string[],
  requests: Buffer[],
): Promise<string> {
  const stopping: (() => Promise<unknown>)[] = [];
  const server = await ServerProcess.start(
    ['--max-peers', String(options.peers + SEARCH_CONNECTIONS)],
    '/dev/null',
    [],
    root,
  );
  stopping.push(() => server.stop());
  try {
    const before = memoryOf(server.pid).rss;
    const seconds = await loadCrowd(server.port, options, stopping);
    const after = memoryOf(server.pid).rss;
    const sockets = await openConnections(server.port, SEARCH_CONNECTIONS, (i) => peerIp(i, 200));
    stopping.push(async () => {
      for (const socket of sockets) socket.destroy();
    });
    await searchChecks(sockets, queries, files, (i) => peerIp(i, 200), new Map());
    const rows: string[] = [];
    for (const inFlight of [1, 16, 1, 16]) {
      const cpuBefore = cpuSecondsOf(server.pid);
      const result = await runLoad({
        sockets,
        requests,
        inFlight,
        counter: () => new LineCounter(),
        seconds: options.seconds,
        warmupSeconds: WARMUP_SECONDS,
      });
      const cpu = cpuSecondsOf(server.pid) - cpuBefore;
      rows.push(
        `${inFlight}: ${(result.requests / result.seconds).toFixed(0)} req/s ${((cpu / result.total) * 1e6).toFixed(2)} us`,
      );
    }
    return `${path.basename(root)}: load ${seconds.toFixed(2)} s, RSS ${(before / MiB).toFixed(0)} -> ${(after / MiB).toFixed(0)} MiB; ${rows.join(', ')}`;
  } finally {
    for (const stop of stopping.reverse()) await stop().catch(() => {});
  }
}
