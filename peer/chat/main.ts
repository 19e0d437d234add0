/**
 * `npm run peer -- chat --alias NAME --dir FOLDER --port P [--host IP] [--server host:port]` —
 * seed 002's client: joins the index (discovery) server with an alias and a folder, serves that
 * folder, and reads lines: plain text is sent to everyone, `/...` are commands (`/help`).
 * stdout: relayed messages (`alias: text`) and command answers; stderr: notices and errors.
 */
import { parseCommandLine, signalExitCode, stopSignal } from '../../io/command-line.ts';
import { parseIPv4, parsePort, serverOptions } from '../../shared/address.ts';
import { DEFAULT_SERVER_HOST, DEFAULT_SERVER_PORT } from '../../shared/defaults.ts';
import { describeError } from '../../shared/errors.ts';
import { FILE_SERVER_FLAGS, FILE_SERVER_FLAGS_USAGE, fileServerFlags } from '../file-server-flags.ts';
import { type ChatCommand, parseChatLine } from './chat-commands.ts';
import { ChatConsole } from './chat-console.ts';
import { ChatPeer } from './chat-peer.ts';

const USAGE = `Usage: npm run -s peer -- chat --alias NAME --dir FOLDER --port PORT
                              [--host IP] [--server HOST:PORT] [--verbose]

Joins the index server as NAME, shares FOLDER on IP:PORT (default IP 127.0.0.1; port 0 picks a
free one) and chats. Type a line to send it to everyone; /help lists the commands (seed 002's
/register, /setNick NAME, /setSharedFiles, /showall, /query FILE, /fetch FILE IP:PORT and exit;
napshare's /help and /quit).

Options:
  --alias NAME          your alias (one word, no ":")
  --dir FOLDER          the folder you share; /fetch saves into it
  --port PORT           your file server's port (0: any free port)
  --host IP             your file server's address, announced to the others (default 127.0.0.1)
  --server HOST:PORT[,HOST:PORT...]
                        index server (default ${DEFAULT_SERVER_HOST}:${DEFAULT_SERVER_PORT}); several servers of
                        one index (--store): the first, then the next when one is lost
  --verbose             log to stderr
  -h, --help            this text

${FILE_SERVER_FLAGS_USAGE}`;

export async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, {
    command: 'npm run -s peer -- chat',
    usage: USAGE,
    options: {
      alias: { type: 'string' },
      dir: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string', default: DEFAULT_SERVER_HOST },
      server: { type: 'string', default: `${DEFAULT_SERVER_HOST}:${DEFAULT_SERVER_PORT}` },
      ...FILE_SERVER_FLAGS,
    },
    required: ['alias', 'dir', 'port'],
  });
  if (!args) return 0;
  const { values } = args;

  const terminal = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const io = new ChatConsole(process.stdin, process.stdout, process.stderr, terminal);
  const { maxUploads, limits: fileServerLimits } = fileServerFlags(values);
  const peer = await ChatPeer.start({
    maxUploads,
    fileServerLimits,
    alias: values.alias,
    folder: values.dir,
    host: parseIPv4(values.host),
    port: parsePort(values.port, true),
    ...serverOptions(values.server),
    print: (line) => io.print(line),
    notice: (line) => io.error(line),
    log: values.verbose ? (message) => io.error(`[chat] ${message}`) : undefined,
  }).catch((error: unknown) => {
    io.close();
    throw error;
  });
  if (terminal) io.error('Type a message, or /help for the commands.');

  const interrupted = stopSignal().then((signal) => signalExitCode(signal, terminal));
  const code = await Promise.race([converse(peer, io), interrupted]);
  io.close();
  await peer.close();
  return code;
}

/**
 * Runs typed lines until exit (or /quit) or end of input; 1 if a piped command failed. Piped, each command
 * finishes before the next (a script's output is deterministic). On a terminal a /fetch runs in
 * the background (seed 002 fetches in a thread) so the chat goes on; leaving waits for it.
 */
async function converse(peer: ChatPeer, io: ChatConsole): Promise<number> {
  let failures = 0;
  const fail = (error: unknown): undefined => {
    failures++;
    io.error(describeError(error));
    return undefined;
  };
  const run = (command: ChatCommand) => peer.run(command).catch(fail);
  const fetches = new Set<Promise<unknown>>();
  for await (const line of io.read()) {
    let command: ChatCommand | null;
    try {
      command = parseChatLine(line);
    } catch (error) {
      fail(error);
      continue;
    }
    if (command === null) continue;
    if (command.type === 'fetch' && io.terminal) {
      const fetch: Promise<unknown> = run(command).then(() => fetches.delete(fetch));
      fetches.add(fetch);
      continue;
    }
    if ((await run(command)) === 'quit') break;
  }
  await Promise.all(fetches);
  return failures > 0 && !io.terminal ? 1 : 0;
}
