/**
 * `npm run server -- chat --port P [--host IP]`: the line chat server of seed 000 (section 2.2),
 * used with netcat. Runs until Ctrl+C. stdout stays empty; the bound address goes to stderr.
 */
import { parseArgs } from 'node:util';
import { parseIPv4, parsePort } from '../shared/address.ts';
import { NapError } from '../shared/errors.ts';
import { terminalLine } from '../shared/terminal-text.ts';
import { ChatServer, DEFAULT_MAX_CHAT_CLIENTS, MAX_CHAT_LINE_BYTES } from './chat-server.ts';

/** Like the seed's reactor.listenTCP(port): every interface, so a whole room can join. */
const DEFAULT_CHAT_HOST = '0.0.0.0';

const USAGE = `Usage: npm run -s server -- chat --port PORT [--host IP] [--max-clients N] [--verbose]

A line chat server for netcat: each line a client sends goes to every other client.
  --port PORT       TCP port (0: any free port, printed on stderr); required
  --host IP         address to listen on (default ${DEFAULT_CHAT_HOST}: every interface)
  --max-clients N   clients at once (default ${DEFAULT_MAX_CHAT_CLIENTS}); lines longer than ${MAX_CHAT_LINE_BYTES / 1024} KiB are refused
  --verbose         log joins and leaves to stderr
Then, in other terminals: nc HOST PORT`;

export async function runChatServer(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: DEFAULT_CHAT_HOST },
      'max-clients': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.port === undefined) {
    process.stderr.write(`napshare server chat: --port is required.\n\n${USAGE}\n`);
    return 2;
  }
  const host = parseIPv4(values.host);
  const maxClients = values['max-clients'] === undefined ? undefined : parseCount(values['max-clients']);
  const log = values.verbose
    ? (message: string) => process.stderr.write(terminalLine(`[chat] ${message}`))
    : undefined;
  const chat = await ChatServer.start({ host, port: parsePort(values.port, true), maxClients, log });
  process.stderr.write(`chat server listening on ${host}:${chat.port}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await chat.close();
  return 0;
}

function parseCount(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new NapError(
      'BAD_ARGUMENT',
      `--max-clients needs a positive integer, not ${JSON.stringify(text)}.`,
    );
  return value;
}
