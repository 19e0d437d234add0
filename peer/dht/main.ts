/**
 * `npm run peer -- dht`: the DHT daemon of seed 000. Runs until Ctrl+C (SIGINT) or SIGTERM and is
 * driven through its control socket (`nc 127.0.0.1 PORT`, or `npm run peer -- dht-client`).
 * stdout stays empty; the bound ports go to stderr (one line), logs too with --verbose.
 */
import { parseCommandLine, stopSignal, verboseLog } from '../../io/command-line.ts';
import { parseIPv4, parsePort } from '../../shared/address.ts';
import { parseCount } from '../../shared/counts.ts';
import { describeError } from '../../shared/errors.ts';
import { describeTimeout, parseCountFlag, parseTimeoutFlag } from '../../shared/limit-flags.ts';
import { terminalLine } from '../../shared/terminal-text.ts';
import { FILE_SERVER_FLAGS, FILE_SERVER_FLAGS_USAGE, fileServerFlags } from '../file-server-flags.ts';
import { requireFolder } from '../shared-folder.ts';
import { assertReachable, describeBootstrap, parseBootstrap } from './bootstrap.ts';
import { type ControlLimits, DEFAULT_CONTROL_LIMITS } from './control-server.ts';
import { CONTROL_HOST, DEFAULT_CONTROL_PORT, DEFAULT_DHT_PORT, DhtDaemon } from './daemon.ts';
import { DEFAULT_MAX_LOOKUPS, DEFAULT_MAX_RESULTS, DEFAULT_PEER_MAX_AGE_MS } from './dht-node.ts';
import { formatDuration, parseDuration } from './durations.ts';
import { DEFAULT_MAX_PUBLISHED_FILES } from './published-catalog.ts';
import { DEFAULT_ANNOUNCE_INTERVAL_MS, DEFAULT_MAX_KEYS } from './publisher.ts';
import { DEFAULT_CONFIRM_TIMEOUT_MS } from './search.ts';

/**
 * This machine only, unless asked: the DHT node answers anyone who can reach it and the file
 * server serves what is published, so being reachable from the LAN is a choice (`--host 0.0.0.0`
 * for a room-wide network, seed 000, 24), as the LAN mode's --iface and the index server's --host
 * are. Several daemons on one machine (seed 000, 23) need nothing more.
 */
const DEFAULT_HOST = '127.0.0.1';
/** Upper bound of the count flags: far past any sensible value, small enough to stay a number. */
const MAX_COUNT = 1_000_000;

const USAGE = `Usage: npm run -s peer -- dht --dir FOLDER [options]

A file-sharing daemon on the Mainline DHT (BitTorrent's), driven through a local TCP socket:
  nc 127.0.0.1 CONTROL_PORT   then type help

Options:
  --dir FOLDER              where get saves downloads (required)
  --port P                  file server TCP port (default 0: any free port)
  --dht-port D              DHT UDP port (default ${DEFAULT_DHT_PORT})
  --control PORT            control TCP port, on ${CONTROL_HOST} only (default ${DEFAULT_CONTROL_PORT})
  --host IP                 address the DHT and the file server bind (default ${DEFAULT_HOST}: this
                            machine only; 0.0.0.0 to be reachable from the network)
  --bootstrap B             none (first node, the default), IP:PORT,IP:PORT,... (nodes of a
                            network to join) or public (the public BitTorrent DHT routers)
  --announce-interval T     re-announce published files every T (default ${formatDuration(DEFAULT_ANNOUNCE_INTERVAL_MS)})
  --peer-max-age T          how long this node keeps what others announce (default ${formatDuration(DEFAULT_PEER_MAX_AGE_MS)})
  --confirm-timeout T       how long a holder has to confirm a search (default ${formatDuration(DEFAULT_CONFIRM_TIMEOUT_MS)})
  --max-results N           holders kept per search (default ${DEFAULT_MAX_RESULTS})
  --max-lookups N           DHT lookups at once; more searches are refused (default ${DEFAULT_MAX_LOOKUPS})
  --max-files N             files published at once (default ${DEFAULT_MAX_PUBLISHED_FILES})
  --max-keys N              keys (names and words) announced at once (default ${DEFAULT_MAX_KEYS})
  --verbose                 log to stderr
  -h, --help                this text
Durations: 500ms, 30s, 10m, 2h (a bare number is seconds). Port 0 picks a free port; the bound
ports are printed on stderr. Relative folders (--dir, publish DIR) are taken from the folder the
daemon was started in.

Control socket limits:
  --control-max-clients N         clients at once (default ${DEFAULT_CONTROL_LIMITS.maxClients})
  --control-max-clients-per-ip N  clients from one address (default ${DEFAULT_CONTROL_LIMITS.maxClientsPerIp})
  --control-idle-timeout T        a client that sends no command this long is closed (default ${describeTimeout(DEFAULT_CONTROL_LIMITS.idleTimeoutMs)})
  --control-line-timeout T        a line left unfinished this long closes its client (default ${describeTimeout(DEFAULT_CONTROL_LIMITS.lineTimeoutMs)})

${FILE_SERVER_FLAGS_USAGE}`;

export async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, {
    command: 'npm run -s peer -- dht',
    usage: USAGE,
    options: {
      dir: { type: 'string' },
      port: { type: 'string', default: '0' },
      'dht-port': { type: 'string', default: String(DEFAULT_DHT_PORT) },
      control: { type: 'string', default: String(DEFAULT_CONTROL_PORT) },
      host: { type: 'string', default: DEFAULT_HOST },
      bootstrap: { type: 'string', default: 'none' },
      'announce-interval': { type: 'string' },
      'peer-max-age': { type: 'string' },
      'confirm-timeout': { type: 'string' },
      'max-results': { type: 'string' },
      'max-lookups': { type: 'string' },
      'max-files': { type: 'string' },
      'max-keys': { type: 'string' },
      'control-max-clients': { type: 'string' },
      'control-max-clients-per-ip': { type: 'string' },
      'control-idle-timeout': { type: 'string' },
      'control-line-timeout': { type: 'string' },
      ...FILE_SERVER_FLAGS,
    },
    required: ['dir'],
  });
  if (!args) return 0;
  const { values } = args;
  const optionalDuration = (flag: string, text: string | undefined) =>
    text === undefined ? undefined : parseDuration(text, flag);
  const optionalCount = (flag: string, text: string | undefined) =>
    text === undefined ? undefined : parseCount(text, flag, 1, MAX_COUNT);
  const host = parseIPv4(values.host);
  const bootstrap = parseBootstrap(values.bootstrap);
  assertReachable(bootstrap, host);
  // Folders typed by the user are relative to where they started the daemon: npm runs scripts in
  // napshare's own folder and passes that one as INIT_CWD (peer/main.ts moves there too).
  const startedIn = process.env.INIT_CWD || process.cwd();
  const log = verboseLog(values.verbose, 'dht');
  // Listening for the signals before saying we are up: a SIGTERM sent as soon as the line below is
  // read must stop the daemon cleanly, not kill it.
  const stopped = stopSignal();
  const { maxUploads, limits: fileServerLimits } = fileServerFlags(values);
  const daemon = await DhtDaemon.start({
    maxUploads,
    fileServerLimits,
    controlLimits: controlLimits(values),
    dir: await requireFolder(values.dir, startedIn),
    cwd: startedIn,
    host,
    port: parsePort(values.port, true),
    dhtPort: parsePort(values['dht-port'], true),
    controlPort: parsePort(values.control, true),
    bootstrap,
    announceIntervalMs: optionalDuration('--announce-interval', values['announce-interval']),
    peerMaxAgeMs: optionalDuration('--peer-max-age', values['peer-max-age']),
    confirmTimeoutMs: optionalDuration('--confirm-timeout', values['confirm-timeout']),
    maxResults: optionalCount('--max-results', values['max-results']),
    maxLookups: optionalCount('--max-lookups', values['max-lookups']),
    maxFiles: optionalCount('--max-files', values['max-files']),
    maxKeys: optionalCount('--max-keys', values['max-keys']),
    log,
  });
  process.stderr.write(
    `dht daemon: dht udp ${host}:${daemon.node.port}, file server tcp ${host}:${daemon.fileServer.port}, ` +
      `control tcp ${CONTROL_HOST}:${daemon.control?.port}, bootstrap ${describeBootstrap(bootstrap)}\n`,
  );
  await stopped;
  await daemon
    .close()
    .catch((error) => process.stderr.write(terminalLine(`napshare peer dht: ${describeError(error)}`)));
  return 0;
}

/** The control socket's limits given on the command line (the others keep their defaults). */
function controlLimits(values: Record<string, string | boolean | undefined>): Partial<ControlLimits> {
  const limits: Partial<ControlLimits> = {};
  const text = (flag: string) => (typeof values[flag] === 'string' ? (values[flag] as string) : undefined);
  const count = text('control-max-clients');
  if (count !== undefined) limits.maxClients = parseCountFlag(count, '--control-max-clients');
  const perIp = text('control-max-clients-per-ip');
  if (perIp !== undefined) limits.maxClientsPerIp = parseCountFlag(perIp, '--control-max-clients-per-ip');
  const idle = text('control-idle-timeout');
  if (idle !== undefined) limits.idleTimeoutMs = parseTimeoutFlag(idle, '--control-idle-timeout');
  const line = text('control-line-timeout');
  if (line !== undefined) limits.lineTimeoutMs = parseTimeoutFlag(line, '--control-line-timeout');
  return limits;
}
