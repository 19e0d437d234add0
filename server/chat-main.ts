/**
 * `npm run server -- chat --port P [--host IP]`: the line chat server of seed 000 (section 2.2),
 * used with netcat. Runs until Ctrl+C. stdout stays empty; the bound address goes to stderr.
 */
import { parseCommandLine, stopSignal, verboseLog } from '../io/command-line.ts';
import { parseIPv4, parsePort } from '../shared/address.ts';
import { describeTimeout, parseCountFlag, parseSizeFlag, parseTimeoutFlag } from '../shared/limit-flags.ts';
import {
  CHAT_IDLE_TIMEOUT_MS,
  CHAT_LINE_TIMEOUT_MS,
  ChatServer,
  DEFAULT_CHAT_LINES_PER_SECOND,
  DEFAULT_MAX_CHAT_CLIENTS,
  DEFAULT_MAX_CHAT_CLIENTS_PER_IP,
  MAX_CHAT_LINE_BYTES,
  MAX_UNREAD_BYTES,
} from './chat-server.ts';

/** Like the seed's reactor.listenTCP(port): every interface, so a whole room can join. */
const DEFAULT_CHAT_HOST = '0.0.0.0';

const USAGE = `Usage: npm run -s server -- chat --port PORT [--host IP] [--max-clients N] [--verbose]

A line chat server for netcat: each line a client sends goes to every other client.
  --port PORT              TCP port (0: any free port, printed on stderr); required
  --host IP                address to listen on (default ${DEFAULT_CHAT_HOST}: every interface)
  --max-clients N          clients at once (default ${DEFAULT_MAX_CHAT_CLIENTS}); lines longer than ${MAX_CHAT_LINE_BYTES / 1024} KiB are refused
  --max-clients-per-ip N   clients from one IP address (default ${DEFAULT_MAX_CHAT_CLIENTS_PER_IP})
  --idle-timeout T         a client that sends nothing this long is disconnected (default ${describeTimeout(CHAT_IDLE_TIMEOUT_MS)}; 0 never)
  --line-timeout T         a line left unfinished this long disconnects its client (default ${describeTimeout(CHAT_LINE_TIMEOUT_MS)})
  --max-unread SIZE        relayed bytes a client may leave unread (default ${MAX_UNREAD_BYTES / 1024 / 1024}MiB)
  --chat-rate N            lines a second per client; more are dropped with a notice (default ${DEFAULT_CHAT_LINES_PER_SECOND})
  --verbose                log joins and leaves to stderr
  (T: seconds, or 500ms, 10m. SIZE: 512KiB, 1MiB, a number of bytes)
Then, in other terminals: nc HOST PORT`;

export async function runChatServer(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, {
    command: 'npm run -s server -- chat',
    usage: USAGE,
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: DEFAULT_CHAT_HOST },
      'max-clients': { type: 'string' },
      'max-clients-per-ip': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'line-timeout': { type: 'string' },
      'max-unread': { type: 'string' },
      'chat-rate': { type: 'string' },
    },
    required: ['port'],
  });
  if (!args) return 0;
  const { values } = args;
  const host = parseIPv4(values.host);
  const given = <T>(text: string | undefined, flag: string, parse: (text: string, flag: string) => T) =>
    text === undefined ? undefined : parse(text, flag);
  const chat = await ChatServer.start({
    host,
    port: parsePort(values.port, true),
    maxClients: given(values['max-clients'], '--max-clients', parseCountFlag),
    maxClientsPerIp: given(values['max-clients-per-ip'], '--max-clients-per-ip', parseCountFlag),
    idleTimeoutMs: given(values['idle-timeout'], '--idle-timeout', parseTimeoutFlag),
    lineTimeoutMs: given(values['line-timeout'], '--line-timeout', parseTimeoutFlag),
    maxUnreadBytes: given(values['max-unread'], '--max-unread', parseSizeFlag),
    linesPerSecond: given(values['chat-rate'], '--chat-rate', parseCountFlag),
    log: verboseLog(values.verbose, 'chat'),
  });
  process.stderr.write(`chat server listening on ${host}:${chat.port}\n`);
  await stopSignal();
  await chat.close();
  return 0;
}
