/**
 * `npm run server` — the index server (seed 003, section 4), asking its IP and port on a
 * terminal. `npm run server -- chat --port P` is the line chat server of seed 000.
 * stdout carries only the console contract's lines; prompts, errors and logs use stderr.
 */
import { BatchedOutput } from '../io/batched-output.ts';
import { parseCommandLine, runProgram, stopSignal, verboseLog } from '../io/command-line.ts';
import { parseHostPort, parseIPv4, parsePort } from '../shared/address.ts';
import { DEFAULT_SERVER_HOST, DEFAULT_SERVER_PORT } from '../shared/defaults.ts';
import { NapError, validatorOf } from '../shared/errors.ts';
import { terminalLine } from '../shared/terminal-text.ts';
import { connectionCap, openFilesLimit } from './fd-limit.ts';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS } from './heartbeat-watch.ts';
import {
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_FILES_PER_PEER,
  DEFAULT_MAX_NAME_BYTES_PER_PEER,
  DEFAULT_MAX_PEERS,
} from './index-budgets.ts';
import { INDEX_LIMIT_FLAGS, INDEX_LIMIT_FLAGS_USAGE, indexLimitFlags } from './index-limit-flags.ts';
import type { IndexMetrics } from './index-metrics.ts';
import { DEFAULT_INDEX_LIMITS, IndexServer } from './index-server.ts';
import type { MetricsEndpoint } from './metrics-http.ts';
import { parseStoreUrl } from './store/store-url.ts';

const USAGE = `Usage: npm run -s server -- [--host IP] [--port PORT] [--max-peers N]
                              [--heartbeat-timeout SECONDS] [--trust-announced-ip]
                              [--max-files-per-peer N] [--max-name-bytes-per-peer N]
                              [--max-entries N] [--metrics HOST:PORT]
                              [--store redis://HOST:PORT[/DB]] [--verbose]
       npm run -s server -- chat --port PORT [--host IP] [--verbose]

Starts the napshare index server (also the discovery and chat server of the peer's chat mode).
On a terminal it asks the IP (default ${DEFAULT_SERVER_HOST}) and the port (default ${DEFAULT_SERVER_PORT})
unless --host / --port are given; otherwise it uses those defaults. --port 0 picks a free port
(printed on stderr). --max-peers caps the joined peers (default ${DEFAULT_MAX_PEERS}; the next JOIN gets
SERVER_FULL). A peer that has sent a heartbeat (PING) and then stays silent for
--heartbeat-timeout seconds (default ${DEFAULT_HEARTBEAT_TIMEOUT_MS / 1000}) is dropped; peers that never send one are
dropped only when their connection closes. A JOIN must announce the IP its connection comes
from; --trust-announced-ip accepts any (behind a proxy). Budgets: --max-files-per-peer (default
${DEFAULT_MAX_FILES_PER_PEER}, TOO_MANY_FILES), --max-name-bytes-per-peer (default ${DEFAULT_MAX_NAME_BYTES_PER_PEER},
TOO_MANY_NAME_BYTES), --max-entries (file entries in the whole index, default ${DEFAULT_MAX_ENTRIES},
INDEX_FULL). --metrics HOST:PORT serves Prometheus metrics at http://HOST:PORT/metrics (port 0:
any free port, printed on stderr). --store keeps the index in Redis instead of this server's
memory: every server given the same Redis serves one index (while Redis cannot be reached,
requests get STORE_UNAVAILABLE). --verbose logs to stderr.

${INDEX_LIMIT_FLAGS_USAGE}`;

/** Shortest heartbeat timeout accepted: below this a busy machine would drop healthy peers. */
const MIN_HEARTBEAT_TIMEOUT_MS = 100;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'chat') {
    const { runChatServer } = await import('./chat-main.ts');
    return runChatServer(argv.slice(1));
  }
  const args = parseCommandLine(argv, {
    command: 'npm run -s server --',
    usage: USAGE,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'max-peers': { type: 'string' },
      'heartbeat-timeout': { type: 'string' },
      'trust-announced-ip': { type: 'boolean', default: false },
      'max-files-per-peer': { type: 'string' },
      'max-name-bytes-per-peer': { type: 'string' },
      'max-entries': { type: 'string' },
      metrics: { type: 'string' },
      store: { type: 'string' },
      ...INDEX_LIMIT_FLAGS,
    },
  });
  if (!args) return 0;
  const { values } = args;
  const count = (flag: string, text: string | undefined, fallback: number) =>
    text === undefined ? fallback : parseCount(text, flag);
  const maxPeers = count('--max-peers', values['max-peers'], DEFAULT_MAX_PEERS);
  const maxFilesPerPeer = count(
    '--max-files-per-peer',
    values['max-files-per-peer'],
    DEFAULT_MAX_FILES_PER_PEER,
  );
  const maxNameBytesPerPeer = count(
    '--max-name-bytes-per-peer',
    values['max-name-bytes-per-peer'],
    DEFAULT_MAX_NAME_BYTES_PER_PEER,
  );
  const maxEntries = count('--max-entries', values['max-entries'], DEFAULT_MAX_ENTRIES);
  const heartbeatTimeoutMs =
    values['heartbeat-timeout'] === undefined
      ? DEFAULT_HEARTBEAT_TIMEOUT_MS
      : parseSeconds(values['heartbeat-timeout'], '--heartbeat-timeout');
  const limitFlags = indexLimitFlags(values);
  const metricsAt = values.metrics === undefined ? undefined : parseHostPort(values.metrics, true);
  // The metrics (prom-client), Redis and prompt modules are loaded only when asked for: each
  // costs resident memory a server without them would carry for nothing (docs/performance.md).
  const metrics: IndexMetrics | undefined =
    metricsAt === undefined ? undefined : new (await import('./index-metrics.ts')).IndexMetrics();
  const storeLocation = values.store === undefined ? undefined : parseStoreUrl(values.store);
  const { host, port } = await serverAddress(values.host, values.port);

  const log = verboseLog(values.verbose, 'server');
  // Each connection is a file descriptor: the cap must fit the process's limit (fd-limit.ts).
  const cap = connectionCap(
    openFilesLimit(),
    DEFAULT_INDEX_LIMITS.maxConnections,
    limitFlags.limits.maxConnections,
  );
  if (cap.warning) process.stderr.write(terminalLine(`napshare server: ${cap.warning}`));
  if (cap.note) log?.(cap.note);
  // The contract's lines, in order, written once per turn of the event loop (io/batched-output.ts);
  // whatever is left is written when the process exits.
  const stdout = new BatchedOutput((text) => process.stdout.write(text));
  process.once('exit', () => stdout.flush());
  // Listened for before anything is printed: a signal sent as soon as the address shows stops it cleanly.
  const stopped = stopSignal();
  const budgets = { maxPeers, maxFilesPerPeer, maxNameBytesPerPeer, maxEntries };
  const store =
    storeLocation === undefined
      ? undefined
      : await (await import('./store/redis-store.ts')).RedisStore.open({
          location: storeLocation,
          log,
          ...budgets,
        });
  const server = await IndexServer.start({
    store,
    host,
    port,
    // Terminal-safe as they come (IndexServerOptions.print): checking each line again here cost
    // more than answering its SEARCH (docs/performance.md, "Index server"). Logs quoting what a
    // client sent go to stderr through terminal-text.ts.
    print: (line) => stdout.push(`${line}\n`),
    log,
    maxPeers,
    heartbeatTimeoutMs,
    trustAnnouncedIp: values['trust-announced-ip'],
    maxFilesPerPeer,
    maxNameBytesPerPeer,
    maxEntries,
    ...limitFlags,
    limits: { ...limitFlags.limits, maxConnections: cap.maxConnections },
    observer: metrics,
  });
  if (port === 0 && !values.verbose) process.stderr.write(`listening on ${host}:${server.address().port}\n`);
  let endpoint: MetricsEndpoint | undefined;
  if (metrics && metricsAt) {
    metrics.watch(() => server.counts());
    try {
      const { serveMetrics } = await import('./metrics-http.ts');
      endpoint = await serveMetrics(metrics, metricsAt.host, metricsAt.port);
    } catch (error) {
      await server.close();
      await store?.close();
      throw error;
    }
    const { host: metricsHost, port: metricsPort } = endpoint.address;
    process.stderr.write(`metrics at http://${metricsHost}:${metricsPort}/metrics\n`);
  }

  await stopped;
  await Promise.all([server.close(), endpoint?.close()]);
  await store?.close();
  return 0;
}

/**
 * Server start-up (seed 003, 4e): the registry's IP and port, typed on the keyboard — Enter takes
 * 127.0.0.1 and 1099, the address peers assume. --host and --port skip the questions; without a
 * terminal the defaults are taken. Prompts render on stderr so stdout stays the console contract.
 */
async function serverAddress(
  hostFlag: string | undefined,
  portFlag: string | undefined,
): Promise<{ host: string; port: number }> {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const context = { output: process.stderr, clearPromptOnDone: true };
  const ask = async (question: Parameters<typeof import('@inquirer/prompts').input>[0]) =>
    (await import('@inquirer/prompts')).input(question, context);
  const host =
    hostFlag !== undefined
      ? parseIPv4(hostFlag)
      : interactive
        ? parseIPv4(
            await ask({
              message: 'Server IP',
              default: DEFAULT_SERVER_HOST,
              validate: validatorOf(parseIPv4),
            }),
          )
        : DEFAULT_SERVER_HOST;
  const port =
    portFlag !== undefined
      ? parsePort(portFlag, true)
      : interactive
        ? parsePort(
            await ask({
              message: 'Server port',
              default: String(DEFAULT_SERVER_PORT),
              validate: validatorOf((text) => parsePort(text, true)),
            }),
            true,
          )
        : DEFAULT_SERVER_PORT;
  return { host, port };
}

/** A positive integer flag (at most 999,999,999: every budget is far below it). */
function parseCount(text: string, flag: string): number {
  const value = /^\d{1,9}$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new NapError('BAD_ARGUMENT', `${flag} needs a positive integer, not ${JSON.stringify(text)}.`);
  return value;
}

function parseSeconds(text: string, flag: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  const ms = Math.round(seconds * 1000);
  if (!Number.isSafeInteger(ms) || ms < MIN_HEARTBEAT_TIMEOUT_MS || ms > 2 ** 31 - 1)
    throw new NapError(
      'BAD_ARGUMENT',
      `${flag} needs a number of seconds from ${MIN_HEARTBEAT_TIMEOUT_MS / 1000} to 2147483, not ${JSON.stringify(text)}.`,
    );
  return ms;
}

runProgram('napshare server', main);
