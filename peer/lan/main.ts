/**
 * `npm run peer -- lan` (seed 001): a member of a LAN group with no server. It chats on a UDP
 * multicast group, offers files of its folder behind per-file passwords, and gets files others
 * offer. A menu on a terminal; one command a line otherwise (line-commands.ts).
 */
import { parseCommandLine, signalExitCode, stopSignal } from '../../io/command-line.ts';
import { formatAddress, type HostPort, parseHostPort, parseIPv4, parsePort } from '../../shared/address.ts';
import { parseCount } from '../../shared/counts.ts';
import { NapError } from '../../shared/errors.ts';
import { FILE_SERVER_FLAGS, FILE_SERVER_FLAGS_USAGE, fileServerFlags } from '../file-server-flags.ts';
import { LineBudget } from '../line-budget.ts';
import { requireFolder } from '../shared-folder.ts';
import { ConsoleGate } from './console-gate.ts';
import { LanActions } from './lan-actions.ts';
import { LanPeer } from './lan-peer.ts';
import { LAN_COMMANDS_HELP } from './line-commands.ts';
import { runLanLineMode } from './line-mode.ts';
import { runLanMenu } from './menu.ts';
import {
  chatLine,
  OFFER_NOTICES_PER_SECOND,
  offerHeardNotice,
  offersNotShownNotice,
  readyNotice,
} from './messages.ts';
import { isMulticastAddress } from './multicast-channel.ts';
import { DEFAULT_MAX_OFFERS, DEFAULT_MAX_OFFERS_PER_HOST } from './offer-table.ts';

/** The seed fixes its group "en dur"; this is napshare's, in the organisation-local range. */
export const DEFAULT_GROUP = '239.255.42.99:4242';
/** Loopback by default: nothing leaves the machine unless an interface is asked for. */
export const DEFAULT_IFACE = '127.0.0.1';
/** Upper bound of the offer-table flags: far past any LAN, small enough for memory. */
const MAX_OFFERS_FLAG = 1_000_000;

const USAGE = `Usage: npm run -s peer -- lan [options]

A member of a LAN group (UDP multicast): chat, offer files with a password, get offered files.
On a terminal: a menu. Otherwise one command a line on stdin:
  ${LAN_COMMANDS_HELP}

Options:
  --group IP:PORT   multicast group (default ${DEFAULT_GROUP})
  --iface IP        address of the interface to use for the group and the file server
                    (default ${DEFAULT_IFACE}; give your LAN address to talk to other machines)
  --port P          file server port (default 0: a free port, shown on stderr)
  --dir FOLDER      folder of the files offered and of the files got (default .)
  --max-offers N    offers heard kept in all (default ${DEFAULT_MAX_OFFERS})
  --max-offers-per-host N
                    offers heard kept per member machine (default ${DEFAULT_MAX_OFFERS_PER_HOST})
  --verbose         log to stderr
  -h, --help        this text

${FILE_SERVER_FLAGS_USAGE}`;

export async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, {
    command: 'npm run -s peer -- lan',
    usage: USAGE,
    options: {
      group: { type: 'string', default: DEFAULT_GROUP },
      iface: { type: 'string', default: DEFAULT_IFACE },
      port: { type: 'string', default: '0' },
      dir: { type: 'string', default: '.' },
      ...FILE_SERVER_FLAGS,
      'max-offers': { type: 'string' },
      'max-offers-per-host': { type: 'string' },
    },
  });
  if (!args) return 0;
  const { values } = args;
  const group = parseGroup(values.group);
  const iface = parseIface(values.iface);
  const port = parsePort(values.port, true);
  const folder = await requireFolder(values.dir);
  const { maxUploads, limits: fileServerLimits } = fileServerFlags(values);
  const offerTable = {
    maxOffers: countFlag(values['max-offers'], '--max-offers', DEFAULT_MAX_OFFERS),
    maxPerHost: countFlag(
      values['max-offers-per-host'],
      '--max-offers-per-host',
      DEFAULT_MAX_OFFERS_PER_HOST,
    ),
  };

  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  // Listening for the signals before the ready notice: a SIGTERM sent as soon as it is read must
  // stop the member cleanly (withdrawing its offers), not kill it.
  const interrupted = stopSignal().then((signal) => signalExitCode(signal, interactive));
  const gate = new ConsoleGate();
  // Each offer is told once, when first heard, and at most OFFER_NOTICES_PER_SECOND a second.
  const offerNotices = new LineBudget({
    perWindow: OFFER_NOTICES_PER_SECOND,
    print: (line) => gate.stderr(line),
    summarise: offersNotShownNotice,
  });
  const peer = await LanPeer.start({
    group,
    iface,
    port,
    folder,
    maxUploads,
    fileServerLimits,
    offerTable,
    events: {
      chat: (fromIp, text) => gate.stdout(chatLine(fromIp, text)),
      offerHeard: (offer) => offerNotices.offer(offerHeardNotice(offer)),
    },
    log: values.verbose ? (message) => gate.stderr(`[lan] ${message}`) : undefined,
  });
  const server = peer.fileServerAddress;
  const sender = peer.senderAddress;
  gate.stderr(
    readyNotice(
      formatAddress(group.host, group.port),
      iface,
      formatAddress(server.host, server.port),
      formatAddress(sender.host, sender.port),
    ),
  );

  const actions = new LanActions(peer, gate, values.dir);
  const run = interactive
    ? runLanMenu(actions, gate).then(() => 0)
    : runLanLineMode(actions, gate, process.stdin).then(({ failures }) => (failures > 0 ? 1 : 0));
  try {
    return await Promise.race([run, interrupted]);
  } finally {
    offerNotices.flush();
    await peer.close();
  }
}

function countFlag(text: string | undefined, flag: string, fallback: number): number {
  return text === undefined ? fallback : parseCount(text, flag, 1, MAX_OFFERS_FLAG);
}

function parseGroup(text: string): HostPort {
  const group = parseHostPort(text);
  if (!isMulticastAddress(group.host))
    throw new NapError(
      'BAD_ARGUMENT',
      `Invalid group ${JSON.stringify(text)}: expected a multicast address (224.0.0.0 to 239.255.255.255) and port.`,
    );
  return group;
}

function parseIface(text: string): string {
  const iface = parseIPv4(text);
  if (iface === '0.0.0.0' || isMulticastAddress(iface))
    throw new NapError(
      'BAD_ARGUMENT',
      `Invalid interface ${JSON.stringify(text)}: give the IPv4 address of one interface, such as 127.0.0.1.`,
    );
  return iface;
}
