/**
 * `npm run peer -- dht`: the DHT daemon of seed 000. Runs until Ctrl+C (SIGINT) or SIGTERM and is
 * driven through its control socket (`nc 127.0.0.1 PORT`, or `npm run peer -- dht-client`).
 * stdout stays empty; the bound ports go to stderr (one line), logs too with --verbose.
 */
import { parseArgs } from 'node:util';
import { parseIPv4, parsePort } from '../../shared/address.ts';
import { describeError } from '../../shared/errors.ts';
import { terminalLine } from '../../shared/terminal-text.ts';
import { requireFolder } from '../shared-folder.ts';
import { describeBootstrap, parseBootstrap } from './bootstrap.ts';
import { CONTROL_HOST, DEFAULT_CONTROL_PORT, DEFAULT_DHT_PORT, DhtDaemon } from './daemon.ts';
import { DEFAULT_PEER_MAX_AGE_MS } from './dht-node.ts';
import { formatDuration, parseDuration } from './durations.ts';
import { DEFAULT_ANNOUNCE_INTERVAL_MS } from './publisher.ts';
import { DEFAULT_CONFIRM_TIMEOUT_MS } from './search.ts';

/** The file server and the DHT are meant to be reached by other machines (seed 000, 24). */
const DEFAULT_HOST = '0.0.0.0';

const USAGE = `Usage: npm run -s peer -- dht --dir FOLDER [options]

A file-sharing daemon on the Mainline DHT (BitTorrent's), driven through a local TCP socket:
  nc 127.0.0.1 CONTROL_PORT   then type help

Options:
  --dir FOLDER              where get saves downloads (required)
  --port P                  file server TCP port (default 0: any free port)
  --dht-port D              DHT UDP port (default ${DEFAULT_DHT_PORT})
  --control PORT            control TCP port, on ${CONTROL_HOST} only (default ${DEFAULT_CONTROL_PORT})
  --host IP                 address the DHT and the file server bind (default ${DEFAULT_HOST})
  --bootstrap B             none (first node, the default), IP:PORT,IP:PORT,... (nodes of a
                            network to join) or public (the public BitTorrent DHT routers)
  --announce-interval T     re-announce published files every T (default ${formatDuration(DEFAULT_ANNOUNCE_INTERVAL_MS)})
  --peer-max-age T          how long this node keeps what others announce (default ${formatDuration(DEFAULT_PEER_MAX_AGE_MS)})
  --confirm-timeout T       how long a holder has to confirm a search (default ${formatDuration(DEFAULT_CONFIRM_TIMEOUT_MS)})
  --verbose                 log to stderr
  -h, --help                this text
Durations: 500ms, 30s, 10m, 2h (a bare number is seconds). Port 0 picks a free port; the bound
ports are printed on stderr.`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
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
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.dir === undefined) {
    process.stderr.write(`napshare peer dht: --dir FOLDER is required.\n\n${USAGE}\n`);
    return 2;
  }
  const optionalDuration = (flag: string, text: string | undefined) =>
    text === undefined ? undefined : parseDuration(text, flag);
  const bootstrap = parseBootstrap(values.bootstrap);
  const log = values.verbose
    ? (message: string) => process.stderr.write(terminalLine(`[dht] ${message}`))
    : undefined;
  const daemon = await DhtDaemon.start({
    dir: await requireFolder(values.dir),
    host: parseIPv4(values.host),
    port: parsePort(values.port, true),
    dhtPort: parsePort(values['dht-port'], true),
    controlPort: parsePort(values.control, true),
    bootstrap,
    announceIntervalMs: optionalDuration('--announce-interval', values['announce-interval']),
    peerMaxAgeMs: optionalDuration('--peer-max-age', values['peer-max-age']),
    confirmTimeoutMs: optionalDuration('--confirm-timeout', values['confirm-timeout']),
    log,
  });
  process.stderr.write(
    `dht daemon: dht udp ${values.host}:${daemon.node.port}, file server tcp ${values.host}:${daemon.fileServer.port}, ` +
      `control tcp ${CONTROL_HOST}:${daemon.control?.port}, bootstrap ${describeBootstrap(bootstrap)}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await daemon
    .close()
    .catch((error) => process.stderr.write(terminalLine(`napshare peer dht: ${describeError(error)}`)));
  return 0;
}
