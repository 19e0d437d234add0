/**
 * The redis-server reference of the index benchmark: RESP commands for the load client, the
 * SEARCH replies stored as values (so a GET moves the same bytes as the SEARCH it stands for), and
 * redis-benchmark's own numbers, the C client's ceiling.
 */
import { spawn } from 'node:child_process';
import type net from 'node:net';
import { RespCounter } from './load-client.ts';

/** One RESP2 command: `*N\r\n` then each argument as `$len\r\n<bytes>\r\n`. */
export function respCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.from(arg, 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** SETs every `key -> value` through `socket` (pipelined) and resolves once all are acknowledged. */
export function storeReplies(socket: net.Socket, values: ReadonlyMap<string, string>): Promise<void> {
  const counter = new RespCounter();
  let waiting = values.size;
  return new Promise((resolve, reject) => {
    if (waiting === 0) return resolve();
    const onData = (chunk: Buffer) => {
      try {
        waiting -= counter.count(chunk);
      } catch (error) {
        reject(error);
      }
      if (waiting <= 0) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.write(Buffer.concat([...values].map(([key, value]) => respCommand(['SET', key, value]))));
  });
}

export interface RedisBenchmarkResult {
  rps: number;
  p50: number;
  p99: number;
}

/**
 * Rough rates of redis-benchmark here (GET, -P 1 and -P 16), to size `-n` for about `seconds`
 * of work.
 */
const EXPECTED_RATE = { 1: 60_000, 16: 500_000 } as Record<number, number>;

/** `redis-benchmark -c clients -P pipeline -t get --csv` against 127.0.0.1:port. */
export function redisBenchmark(
  port: number,
  clients: number,
  pipeline: number,
  seconds: number,
): Promise<RedisBenchmarkResult> {
  const requests = Math.round((EXPECTED_RATE[pipeline] ?? 100_000) * seconds);
  const child = spawn(
    'redis-benchmark',
    ['-h', '127.0.0.1', '-p', String(port), '-c', String(clients), '-n', String(requests)].concat([
      '-P',
      String(pipeline),
      '-t',
      'get',
      '--csv',
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.resume();
  return new Promise((resolve, reject) =>
    child.once('close', (code) => {
      // "GET","39682.54","0.745","0.168","0.703","1.127","1.479","3.471": rps, avg, min, p50, p95, p99, max.
      const row = output.split('\n').find((line) => line.startsWith('"GET"'));
      const cells = row?.split(',').map((cell) => Number(cell.replaceAll('"', '')));
      if (code !== 0 || cells === undefined || cells.length < 7)
        return reject(new Error(`redis-benchmark failed (${code}): ${output.trim()}`));
      resolve({ rps: cells[1] as number, p50: cells[4] as number, p99: cells[6] as number });
    }),
  );
}
