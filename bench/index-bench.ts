/**
 * `npm run bench -- index`: the index server at scale, beside redis-server measured in the same
 * run by the same load client (bench/load-client.ts). 10,000 peers x 100 files are JOINed over
 * loopback, each peer its own connection from its own address (bench/index-crowd.ts), into two
 * napshare servers, one printing its stdout to a file and one to /dev/null; then 50 connections
 * SEARCH, 1 and 16 requests in flight each, alternating with redis GETs of the same replies, and
 * redis-benchmark gives the C client's ceiling. See docs/performance.md, "Index server".
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { ensureRedisInstalled, RedisServer } from '../test/helpers/redis-server.ts';
import { cpuSecondsOf, memoryOf, ServerProcess } from './bench-process.ts';
import type { CrowdReport, CrowdRequest } from './index-crowd.ts';
import { peerIp, population } from './index-names.ts';
import {
  LineCounter,
  type LoadResult,
  openConnections,
  type ReplyCounter,
  RespCounter,
  runLoad,
} from './load-client.ts';
import { redisBenchmark, respCommand, storeReplies } from './redis-reference.ts';
import { searchChecks } from './search-checks.ts';
import { MiB, median, table } from './stats.ts';

/** Load connections, as in the measurements the targets were set against. */
const SEARCH_CONNECTIONS = 50;
/** Population seed: the same names in every run (and in the crowd process). */
const SEED = 16;
/** The crowd's JOINs must finish in this: 10 s is the target, the rest is a dead machine. */
const LOAD_DEADLINE_MS = 180_000;
const WARMUP_SECONDS = 1;

export interface IndexBenchOptions {
  runs: number;
  peers: number;
  filesPerPeer: number;
  seconds: number;
  /** Folder for the servers' CPU profiles (`node --cpu-prof`); none: not profiled. */
  profileDir?: string;
  log: (line: string) => void;
}

interface Target {
  label: string;
  pid: () => number;
  sockets: net.Socket[];
  requests: Buffer[];
  counter: () => ReplyCounter;
  /** Every SEARCH reply received, warm-ups included: the server printed one line each. */
  searches: number;
  samples: Map<number, Sample[]>;
}

interface Sample {
  rate: number;
  p50: number;
  p99: number;
  cpuPerRequest: number;
  peak: number;
}

export async function indexBench(options: IndexBenchOptions): Promise<string> {
  const { log } = options;
  const missing = ensureRedisInstalled(log);
  if (missing) throw new Error(missing);
  const folder = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'napshare-index-bench-'));
  const entries = options.peers * options.filesPerPeer;
  log(`building ${options.peers} peers x ${options.filesPerPeer} files...`);
  const { files, queries } = population(SEED, options.peers, options.filesPerPeer);
  const stopping: (() => Promise<unknown>)[] = [];
  try {
    const loadRows: string[][] = [];
    const servers: { label: string; server: ServerProcess; stdout: string }[] = [];
    for (const [label, stdout] of [
      ['napshare, stdout to a file', path.join(folder, 'stdout.txt')],
      ['napshare, stdout to /dev/null', '/dev/null'],
    ] as const) {
      const nodeArgs = options.profileDir
        ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir, '--max-old-space-size=4096']
        : [];
      const server = await ServerProcess.start(
        ['--max-peers', String(options.peers + SEARCH_CONNECTIONS)],
        stdout,
        nodeArgs,
      );
      stopping.push(() => server.stop());
      const before = memoryOf(server.pid);
      log(`${label}: loading ${entries} entries...`);
      const seconds = await loadCrowd(server.port, options, stopping);
      const after = memoryOf(server.pid);
      loadRows.push([
        label,
        `${seconds.toFixed(2)} s`,
        `${(after.rss / MiB).toFixed(0)} MiB`,
        `${(after.peak / MiB).toFixed(0)} MiB`,
        `${((after.rss - before.rss) / entries).toFixed(0)} B`,
      ]);
      log(`${label}: loaded in ${seconds.toFixed(2)} s, ${(after.rss / MiB).toFixed(0)} MiB resident`);
      servers.push({ label, server, stdout });
    }

    const targets: Target[] = [];
    const replies = new Map<string, string>();
    for (const { label, server } of servers) {
      const sockets = await openConnections(server.port, SEARCH_CONNECTIONS, (i) => peerIp(i, 200));
      const checked = await searchChecks(sockets, queries, files, (i) => peerIp(i, 200), replies);
      log(`${label}: ${checked} SEARCH replies checked against the population`);
      targets.push({
        label,
        pid: () => server.pid,
        sockets,
        requests: queries.map((file) => Buffer.from(`${JSON.stringify({ type: 'SEARCH', file })}\n`)),
        counter: () => new LineCounter(),
        searches: checked,
        samples: new Map(),
      });
    }
    const redis = await RedisServer.start();
    stopping.push(() => redis.stop());
    const redisSockets = await openConnections(redis.port, SEARCH_CONNECTIONS);
    await storeReplies(redisSockets[0] as net.Socket, replies);
    targets.push({
      label: 'redis-server GET (same client)',
      pid: () => redis.pid,
      sockets: redisSockets,
      requests: queries.map((file) => respCommand(['GET', file])),
      counter: () => new RespCounter(),
      searches: 0,
      samples: new Map(),
    });

    const ceiling: string[][] = [];
    for (let round = 0; round < options.runs; round++) {
      for (const inFlight of [1, 16]) {
        for (let k = 0; k < targets.length; k++) {
          const target = targets[(k + round) % targets.length] as Target;
          const sample = await measure(target, inFlight, options.seconds);
          const list = target.samples.get(inFlight) ?? [];
          list.push(sample);
          target.samples.set(inFlight, list);
          log(
            `round ${round + 1}: ${target.label}, ${inFlight} in flight: ${sample.rate.toFixed(0)} req/s, p99 ${sample.p99.toFixed(2)} ms`,
          );
        }
      }
    }
    for (const pipeline of [1, 16]) {
      const result = await redisBenchmark(redis.port, SEARCH_CONNECTIONS, pipeline, options.seconds);
      ceiling.push([
        `redis-benchmark -c ${SEARCH_CONNECTIONS} -P ${pipeline} -t get`,
        result.rps.toFixed(0),
        result.p50.toFixed(3),
        result.p99.toFixed(3),
      ]);
    }

    const printed = await countPrinted(servers[0] as (typeof servers)[number], targets[0] as Target, options);
    return report(options, loadRows, targets, ceiling, printed);
  } finally {
    for (const stop of stopping.reverse()) await stop().catch(() => {});
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

export async function loadCrowd(
  port: number,
  options: IndexBenchOptions,
  stopping: (() => Promise<unknown>)[],
): Promise<number> {
  const crowd = fork(path.join(import.meta.dirname, 'index-crowd.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const gone = new Promise<void>((resolve) => crowd.once('exit', () => resolve()));
  stopping.push(async () => {
    crowd.kill('SIGKILL');
    await gone;
  });
  const report = await new Promise<CrowdReport>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the crowd did not JOIN in ${LOAD_DEADLINE_MS / 1000} s`)),
      LOAD_DEADLINE_MS,
    );
    crowd.once('message', (message: CrowdReport) => {
      clearTimeout(timer);
      resolve(message);
    });
    crowd.once('exit', (code) => reject(new Error(`the crowd exited with ${code}`)));
    crowd.send({
      port,
      peers: options.peers,
      filesPerPeer: options.filesPerPeer,
      seed: SEED,
    } satisfies CrowdRequest);
  });
  if (!report.loaded) throw new Error(`loading the index failed: ${report.error}`);
  return report.seconds;
}

async function measure(target: Target, inFlight: number, seconds: number): Promise<Sample> {
  const pid = target.pid();
  const cpuBefore = cpuSecondsOf(pid);
  const result: LoadResult = await runLoad({
    sockets: target.sockets,
    requests: target.requests,
    inFlight,
    counter: target.counter,
    seconds,
    warmupSeconds: WARMUP_SECONDS,
  });
  const cpu = cpuSecondsOf(pid) - cpuBefore;
  target.searches += result.total;
  return {
    rate: result.requests / result.seconds,
    p50: result.latency.percentile(50) / 1e6,
    p99: result.latency.percentile(99) / 1e6,
    cpuPerRequest: (cpu / result.total) * 1e6,
    peak: memoryOf(pid).peak,
  };
}

/** Stops the server printing to a file and counts its lines: one per JOIN and per SEARCH answered. */
async function countPrinted(
  printing: { server: ServerProcess; stdout: string },
  target: Target,
  options: IndexBenchOptions,
): Promise<{ expected: number; printed: number; bytes: number }> {
  for (const socket of target.sockets) socket.destroy();
  await printing.server.stop();
  let printed = 0;
  let bytes = 0;
  const stream = fs.createReadStream(printing.stdout);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) printed++;
  }
  return { expected: options.peers + SEARCH_CONNECTIONS + target.searches, printed, bytes };
}

function report(
  options: IndexBenchOptions,
  loadRows: string[][],
  targets: Target[],
  ceiling: string[][],
  printed: { expected: number; printed: number; bytes: number },
): string {
  const entries = options.peers * options.filesPerPeer;
  const redis = targets[targets.length - 1] as Target;
  const rows: string[][] = [];
  const raw: string[] = [];
  for (const inFlight of [1, 16]) {
    const reference = median((redis.samples.get(inFlight) ?? []).map((sample) => sample.rate));
    for (const target of targets) {
      const samples = target.samples.get(inFlight) ?? [];
      const rates = samples.map((sample) => sample.rate);
      const rate = median(rates);
      rows.push([
        target.label,
        String(inFlight),
        `${rate.toFixed(0)} (${Math.min(...rates).toFixed(0)}-${Math.max(...rates).toFixed(0)})`,
        `${(rate / reference).toFixed(2)}x`,
        median(samples.map((sample) => sample.p50)).toFixed(2),
        median(samples.map((sample) => sample.p99)).toFixed(2),
        `${(Math.max(...samples.map((sample) => sample.peak)) / MiB).toFixed(0)} MiB`,
        median(samples.map((sample) => sample.cpuPerRequest)).toFixed(2),
      ]);
      raw.push(`  ${target.label}, ${inFlight} in flight: ${rates.map((r) => r.toFixed(0)).join(' ')}`);
    }
  }
  return [
    `Index server: ${options.peers} peers x ${options.filesPerPeer} files (${entries} entries), each peer its own connection from its own 127.x.y.z, JOINed over loopback`,
    table(['server', 'load time', 'RSS after load', 'peak RSS', 'RSS per entry'], loadRows),
    'Targets: load under 10 s, at most 300 MiB resident.',
    '',
    `SEARCH from ${SEARCH_CONNECTIONS} connections, ${options.seconds} s each, median (min-max) of ${options.runs} alternating runs; redis GETs the same reply bytes`,
    table(
      [
        'server',
        'in flight',
        'req/s',
        'vs redis',
        'p50 ms',
        'p99 ms',
        'server peak RSS',
        'server CPU us/req',
      ],
      rows,
    ),
    'Raw samples (req/s):',
    ...raw,
    'Targets: >= 0.8x redis (1.0x the aim), p99 < 2 ms (or < 1.25x redis p99) with 1 in flight; >= 0.8x redis with 16.',
    '',
    'The C client ceiling (redis-benchmark, GET of a 3-byte value):',
    table(['command', 'req/s', 'p50 ms', 'p99 ms'], ceiling),
    '',
    `stdout to a file: ${printed.printed} lines (${(printed.bytes / MiB).toFixed(0)} MiB) printed, ${printed.expected} JOINs and SEARCHes answered${printed.printed === printed.expected ? '' : '  <-- LINES MISSING'}`,
  ].join('\n');
}
