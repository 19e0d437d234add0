/**
 * `npm run peer -- gossip LOCALPORT REMOTEIP REMOTEPORT` — the UDP TLV peer-discovery protocol of
 * seed 004, with the seed's own arguments (section 2: "./server 4201 127.0.0.1 4200 se lie au port
 * 4201, et envoie des messages à 127.0.0.1:4200"). stdout carries only the peer table, printed
 * when it changes, at most once per Hello interval; --verbose traces every datagram on stderr.
 */
import { parseCommandLine, stopSignal, verboseLog } from '../../io/command-line.ts';
import { parseIPv4, parsePort } from '../../shared/address.ts';
import { parseCount as parseCountFlag } from '../../shared/counts.ts';
import { NapError } from '../../shared/errors.ts';
import { terminalLine } from '../../shared/terminal-text.ts';
import { GossipNode, HELLO_INTERVAL_MS, PEER_TIMEOUT_MS, REQUEST_INTERVAL_MS } from './gossip-node.ts';
import { DEFAULT_MAX_PEERS, DEFAULT_MIN_PEERS, defaultTargetPeers } from './peer-table.ts';
import { formatPeerTable } from './table-format.ts';
import { TablePrinter } from './table-printer.ts';

/** Like the seed's program (INADDR_ANY): reachable from other machines of the network. */
const DEFAULT_HOST = '0.0.0.0';
/** Below this, timers fire faster than a loaded machine delivers datagrams: peers would flap. */
const MIN_INTERVAL_MS = 10;
/** A Peer Address answer of 1 + ceil(maxPeers / 174) datagrams stays small; 10 000 is plenty. */
const MAX_MAX_PEERS = 10_000;

const USAGE = `Usage: npm run -s peer -- gossip LOCALPORT REMOTEIP REMOTEPORT [options]

Seed 004's peer discovery over UDP: binds LOCALPORT (0 = any free port), greets the bootstrap peer
REMOTEIP:REMOTEPORT (REMOTEPORT 0 = none, wait to be greeted) and keeps a live table of peers by
asking known peers for theirs. Prints the table on stdout when it changes, at most once per Hello
interval (changes within one are printed together); Ctrl+C stops.

Options:
  --host IP                 address to bind (default ${DEFAULT_HOST}: every interface, like the seed's
                            program; use 127.0.0.1 to stay on this machine)
  --hello-interval MS       a Hello to every peer this often (default ${HELLO_INTERVAL_MS})
  --request-interval MS     a Peer Request to every peer this often (default ${REQUEST_INTERVAL_MS})
  --timeout MS              no Hello for this long and a peer is inactive (default ${PEER_TIMEOUT_MS})
  --max-peers N             bound on the peer table (default ${DEFAULT_MAX_PEERS})
  --target-peers N          look for new peers while fewer are active (default: half of --max-peers)
  --min-peers N             inactive peers kept when none is active (default ${DEFAULT_MIN_PEERS})
  --verbose                 trace every datagram on stderr
  -h, --help                this text`;

export async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, {
    command: 'npm run -s peer -- gossip',
    usage: USAGE,
    positionals: true,
    options: {
      host: { type: 'string', default: DEFAULT_HOST },
      'hello-interval': { type: 'string' },
      'request-interval': { type: 'string' },
      timeout: { type: 'string' },
      'max-peers': { type: 'string' },
      'target-peers': { type: 'string' },
      'min-peers': { type: 'string' },
    },
  });
  if (!args) return 0;
  const { values, positionals } = args;
  if (positionals.length !== 3) {
    throw new NapError(
      'BAD_ARGUMENT',
      'Expected LOCALPORT REMOTEIP REMOTEPORT, e.g. gossip 4201 127.0.0.1 4200.',
    );
  }
  const [localPort, remoteIp, remotePort] = positionals as [string, string, string];
  const bootstrapPort = parsePort(remotePort, true);
  const helloIntervalMs = parseCount(
    values['hello-interval'],
    '--hello-interval',
    HELLO_INTERVAL_MS,
    MIN_INTERVAL_MS,
  );
  const timeoutMs = parseCount(values.timeout, '--timeout', PEER_TIMEOUT_MS, MIN_INTERVAL_MS);
  if (timeoutMs <= helloIntervalMs) {
    throw new NapError(
      'BAD_ARGUMENT',
      '--timeout must be longer than --hello-interval, or every peer would flap.',
    );
  }
  const maxPeers = parseCount(values['max-peers'], '--max-peers', DEFAULT_MAX_PEERS, 1, MAX_MAX_PEERS);
  const targetPeers = parseCount(
    values['target-peers'],
    '--target-peers',
    defaultTargetPeers(maxPeers),
    1,
    maxPeers,
  );
  // Every line through terminal-text.ts, like every napshare console (addresses here are numbers).
  const print = (lines: string[]) => process.stdout.write(lines.map(terminalLine).join(''));
  let current: GossipNode | undefined;
  // At most one table per Hello interval (once a second by default), changes within it coalesced.
  const printer = new TablePrinter(helloIntervalMs, () => {
    if (current) print(formatPeerTable(current.name, current.table.view()));
  });
  // Listening for the signals before the first table is printed: a SIGTERM sent as soon as it is
  // read must stop the node cleanly, not kill it.
  const stopped = stopSignal().then(() => 0);
  const node = await GossipNode.start({
    host: parseIPv4(values.host),
    port: parsePort(localPort, true),
    bootstrap: bootstrapPort === 0 ? undefined : { host: parseRemoteIp(remoteIp), port: bootstrapPort },
    helloIntervalMs,
    requestIntervalMs: parseCount(
      values['request-interval'],
      '--request-interval',
      REQUEST_INTERVAL_MS,
      MIN_INTERVAL_MS,
    ),
    timeoutMs,
    maxPeers,
    targetPeers,
    minPeers: parseCount(values['min-peers'], '--min-peers', DEFAULT_MIN_PEERS, 0, MAX_MAX_PEERS),
    log: verboseLog(values.verbose, 'gossip'),
    onTableChange: (changed) => {
      current = changed;
      printer.changed();
    },
  });
  const code = await stopped;
  printer.close();
  await node.close();
  return code;
}

function parseRemoteIp(text: string): string {
  return text.trim() === 'localhost' ? '127.0.0.1' : parseIPv4(text);
}

/** A count flag with its default when absent. */
function parseCount(
  text: string | undefined,
  flag: string,
  fallback: number,
  min: number,
  max = 3_600_000,
): number {
  return text === undefined ? fallback : parseCountFlag(text, flag, min, max);
}
