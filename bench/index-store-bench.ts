/**
 * `npm run bench -- index --store redis`: 1, 2 and 4 index servers sharing one redis-server
 * (`--store`), beside the in-memory server, under the same SEARCH load (bench/load-client.ts):
 * the crowd of peers JOINs through the first server (bench/index-crowd.ts), the 50 load
 * connections are spread over the servers in use, and every reply is checked against the
 * population before anything is timed. CPU per request is given for the napshare servers
 * together and for redis-server alone: Redis's one thread is where a shared index tops out
 * (docs/scaling.md).
 */
import type net from 'node:net';
import { ensureRedisInstalled, RedisServer } from '../test/helpers/redis-server.ts';
import { cpuSecondsOf, ServerProcess } from './bench-process.ts';
import { loadCrowd } from './index-bench.ts';
import { peerIp, population } from './index-names.ts';
import { LineCounter, openConnections, runLoad } from './load-client.ts';
import { searchChecks } from './search-checks.ts';
import { median, table } from './stats.ts';

const SEARCH_CONNECTIONS = 50;
const WARMUP_SECONDS = 1;
/** Most servers measured on one Redis. */
const SERVER_COUNTS = [1, 2, 4] as const;

export interface IndexStoreBenchOptions {
  runs: number;
  peers: number;
  filesPerPeer: number;
  seconds: number;
  log: (line: string) => void;
}

interface Setup {
  label: string;
  servers: ServerProcess[];
  sockets: net.Socket[];
  redisPid?: number;
}

export async function indexStoreBench(options: IndexStoreBenchOptions): Promise<string> {
  const { log } = options;
  const missing = ensureRedisInstalled(log);
  if (missing) throw new Error(missing);
  const { files, queries } = population(16, options.peers, options.filesPerPeer);
  const requests = queries.map((file) => Buffer.from(`${JSON.stringify({ type: 'SEARCH', file })}\n`));
  const stopping: (() => Promise<unknown>)[] = [];
  const serverArgs = ['--max-peers', String(options.peers + 10 * SEARCH_CONNECTIONS)];
  const loadRows: string[][] = [];
  try {
    const redis = await RedisServer.start();
    stopping.push(() => redis.stop());
    const memory = await ServerProcess.start(serverArgs, '/dev/null');
    stopping.push(() => memory.stop());
    const shared: ServerProcess[] = [];
    for (let i = 0; i < Math.max(...SERVER_COUNTS); i++) {
      const server = await ServerProcess.start([...serverArgs, '--store', redis.url], '/dev/null');
      stopping.push(() => server.stop());
      shared.push(server);
    }
    for (const [label, server] of [
      ['in-memory', memory],
      ['redis store', shared[0] as ServerProcess],
    ] as const) {
      log(`${label}: loading ${options.peers * options.filesPerPeer} entries...`);
      const seconds = await loadCrowd(server.port, { ...options, log, runs: 1 }, stopping);
      loadRows.push([label, `${seconds.toFixed(2)} s`]);
    }
    const setups: Setup[] = [{ label: 'in-memory, 1 server', servers: [memory], sockets: [] }];
    for (const count of SERVER_COUNTS)
      setups.push({
        label: `redis store, ${count} server${count > 1 ? 's' : ''}`,
        servers: shared.slice(0, count),
        sockets: [],
        redisPid: redis.pid,
      });
    // Each setup's load connections, from addresses of their own, JOINed and checked.
    let offset = 0;
    for (const setup of setups) {
      const replies = new Map<string, string>();
      const per = Math.ceil(SEARCH_CONNECTIONS / setup.servers.length);
      for (const server of setup.servers) {
        const base = offset;
        const sockets = await openConnections(server.port, per, (i) => peerIp(base + i, 200));
        await searchChecks(sockets, queries, files, (i) => peerIp(base + i, 200), replies);
        setup.sockets.push(...sockets);
        offset += per;
      }
      log(`${setup.label}: ${setup.sockets.length} load connections, replies checked`);
    }
    const rows: string[][] = [];
    for (const inFlight of [1, 16]) {
      const samples = new Map<
        Setup,
        { rate: number; p50: number; p99: number; napshare: number; redis: number }[]
      >();
      for (let round = 0; round < options.runs; round++) {
        for (let k = 0; k < setups.length; k++) {
          const setup = setups[(k + round) % setups.length] as Setup;
          const cpu = () => ({
            napshare: setup.servers.reduce((sum, server) => sum + cpuSecondsOf(server.pid), 0),
            redis: setup.redisPid === undefined ? 0 : cpuSecondsOf(setup.redisPid),
          });
          const before = cpu();
          const result = await runLoad({
            sockets: setup.sockets,
            requests,
            inFlight,
            counter: () => new LineCounter(),
            seconds: options.seconds,
            warmupSeconds: WARMUP_SECONDS,
          });
          const after = cpu();
          const sample = {
            rate: result.requests / result.seconds,
            p50: result.latency.percentile(50) / 1e6,
            p99: result.latency.percentile(99) / 1e6,
            napshare: ((after.napshare - before.napshare) / result.total) * 1e6,
            redis: ((after.redis - before.redis) / result.total) * 1e6,
          };
          samples.set(setup, [...(samples.get(setup) ?? []), sample]);
          log(
            `${setup.label}, ${inFlight} in flight: ${sample.rate.toFixed(0)} req/s, p99 ${sample.p99.toFixed(2)} ms`,
          );
        }
      }
      for (const setup of setups) {
        const list = samples.get(setup) ?? [];
        const rates = list.map((s) => s.rate);
        rows.push([
          setup.label,
          String(inFlight),
          `${median(rates).toFixed(0)} (${Math.min(...rates).toFixed(0)}-${Math.max(...rates).toFixed(0)})`,
          median(list.map((s) => s.p50)).toFixed(2),
          median(list.map((s) => s.p99)).toFixed(2),
          median(list.map((s) => s.napshare)).toFixed(1),
          setup.redisPid === undefined ? '-' : median(list.map((s) => s.redis)).toFixed(1),
        ]);
      }
    }
    return [
      `Index on Redis: ${options.peers} peers x ${options.filesPerPeer} files JOINed through one server, SEARCH from ${SEARCH_CONNECTIONS} connections spread over the servers, ${options.seconds} s each, median (min-max) of ${options.runs} alternating runs`,
      table(['index', 'load time'], loadRows),
      '',
      table(
        ['setup', 'in flight', 'req/s', 'p50 ms', 'p99 ms', 'napshare CPU us/req', 'redis CPU us/req'],
        rows,
      ),
      `Machine: ${(await import('node:os')).cpus().length} cores, shared by every process above (servers, redis-server, load client).`,
    ].join('\n');
  } finally {
    for (const stop of stopping.reverse()) await stop().catch(() => {});
  }
}
