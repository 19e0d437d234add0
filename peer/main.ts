/**
 * `npm run peer` — the course peer (seed 003): an inquirer menu on a terminal, line commands
 * otherwise. Other modes are subcommands: chat, lan, dht, dht-client, gossip, web.
 * stdout carries only the console contract's lines; prompts, errors and logs use stderr.
 */
import fs from 'node:fs';
import { parseCommandLine, runProgram, signalExitCode, stopSignal, verboseLog } from '../io/command-line.ts';
import { serverOptions } from '../shared/address.ts';
import { DEFAULT_SERVER_HOST, DEFAULT_SERVER_PORT } from '../shared/defaults.ts';
import { isPromptExit } from '../shared/errors.ts';
import { escapeTerminalText, terminalLine } from '../shared/terminal-text.ts';
import { parseByteSize } from '../shared/units.ts';
import { consoleMode, TYPED_COMMANDS_NOTICE } from './console-mode.ts';
import { FILE_SERVER_FLAGS, FILE_SERVER_FLAGS_USAGE, fileServerFlags } from './file-server-flags.ts';
import { runLineMode } from './line-mode.ts';
import { NoticeBoard } from './notice-board.ts';
import type { ProgressSink } from './progress-bar.ts';
import { RateLimiter } from './rate-limiter.ts';
import { PeerSession } from './session.ts';

/** The extended menu's multi-source download entry. */
const EXTENDED_DOWNLOAD = 'DOWNLOAD from all peers';

type SubcommandMain = (argv: string[]) => Promise<number>;

const SUBCOMMANDS: Record<string, () => Promise<SubcommandMain>> = {
  chat: async () => (await import('./chat/main.ts')).main,
  lan: async () => (await import('./lan/main.ts')).main,
  dht: async () => (await import('./dht/main.ts')).main,
  'dht-client': async () => (await import('./dht/client-main.ts')).main,
  gossip: async () => (await import('./gossip/main.ts')).main,
  web: async () => (await import('./web/main.ts')).main,
};

const USAGE = `Usage: npm run -s peer -- [options]
       npm run -s peer -- chat|lan|dht|dht-client|gossip|web ... (see README.md)

The course peer. On a terminal: a menu with JOIN, SEARCH, DOWNLOAD. Otherwise it reads one command
a line from stdin: JOIN ip port folder | SEARCH file | DOWNLOAD ip port | DOWNLOAD (from every
peer of the last SEARCH).

Options:
  --server HOST:PORT[,HOST:PORT...]
                            index server (default ${DEFAULT_SERVER_HOST}:${DEFAULT_SERVER_PORT}); several servers
                            of one index (--store): the first, then the next when one is lost
  --max-upload-rate RATE    cap on this peer's total upload rate, e.g. 50MB (per second)
  --keep-sharing            line mode: keep serving the folder after stdin ends, until Ctrl+C
  --extended                menu: add "DOWNLOAD from all peers" (multi-source); line mode has
                            it always, as DOWNLOAD with no address
  --verbose                 log to stderr
  -h, --help                this text

${FILE_SERVER_FLAGS_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const subcommand = argv[0] !== undefined ? SUBCOMMANDS[argv[0]] : undefined;
  if (subcommand) return (await subcommand())(argv.slice(1));

  const args = parseCommandLine(argv, {
    command: 'npm run -s peer --',
    usage: USAGE,
    options: {
      server: { type: 'string', default: `${DEFAULT_SERVER_HOST}:${DEFAULT_SERVER_PORT}` },
      ...FILE_SERVER_FLAGS,
      'max-upload-rate': { type: 'string' },
      'keep-sharing': { type: 'boolean', default: false },
      extended: { type: 'boolean', default: false },
    },
  });
  if (!args) return 0;
  const { values } = args;
  const { maxUploads, limits: fileServerLimits } = fileServerFlags(values);
  const rate = values['max-upload-rate'];
  // Red only on a terminal; chalk is not even loaded for pipes (memory, docs/performance.md).
  const red = process.stderr.isTTY ? (await import('chalk')).chalkStderr.red : (text: string) => text;
  // Every line passes terminal-text.ts: an error can quote a server or an uploader (their ERROR
  // and DOWNLOAD_REJECTED messages), which must not drive this terminal. Colour comes after.
  const reportError = (message: string) => process.stderr.write(`${red(escapeTerminalText(message))}\n`);
  const mode = consoleMode({
    stdinIsTerminal: Boolean(process.stdin.isTTY),
    stderrIsTerminal: Boolean(process.stderr.isTTY),
    stdoutIsTerminal: Boolean(process.stdout.isTTY),
    stdoutIsPipe: isPipe(1),
  });
  // At the menu, notices wait for the prompt to close instead of being written over it.
  const notices = mode.menu ? new NoticeBoard() : undefined;
  const session = new PeerSession({
    ...serverOptions(values.server),
    notice: notices ? (message) => notices.post(message) : undefined,
    print: (line) => {
      process.stdout.write(terminalLine(line));
      // stdout goes to a file: the person at the menu still sees the line, between two prompts.
      if (mode.echoLines) process.stderr.write(terminalLine(line));
    },
    log: verboseLog(values.verbose, 'peer'),
    maxUploads,
    fileServerLimits,
    limiter: rate === undefined ? undefined : new RateLimiter(parseByteSize(rate)),
    // The bar is for people: only on a terminal, never in a pipe or a log file.
    progress: process.stderr.isTTY ? await loadProgressBar() : undefined,
  });

  const interrupted = stopSignal().then((signal) => signalExitCode(signal, mode.atTerminal));
  if (mode.typedCommands) process.stderr.write(`${TYPED_COMMANDS_NOTICE}\n`);
  const run = mode.menu
    ? runInteractive(session, reportError, values.extended, notices)
    : runScripted(session, reportError, values['keep-sharing']);
  const code = await Promise.race([run, interrupted]);
  await session.close();
  return code;
}

async function runInteractive(
  session: PeerSession,
  reportError: (message: string) => void,
  extended: boolean,
  notices: NoticeBoard | undefined,
): Promise<number> {
  // The course menu offers exactly JOIN, SEARCH, DOWNLOAD; extras only when asked for.
  const extra = extended ? [{ name: EXTENDED_DOWNLOAD, run: () => session.downloadFromAll() }] : [];
  // Loaded only here: inquirer costs memory a scripted peer has no use for (docs/performance.md).
  const { runMenu } = await import('./menu.ts');
  try {
    return await runMenu(session, { reportError, extra, notices });
  } catch (error) {
    // Ctrl+C at a prompt: leave cleanly.
    if (isPromptExit(error)) return 0;
    throw error;
  }
}

async function runScripted(
  session: PeerSession,
  reportError: (message: string) => void,
  keepSharing: boolean,
): Promise<number> {
  const { failures } = await runLineMode(session, process.stdin, reportError);
  if (keepSharing && session.joined) {
    process.stderr.write('stdin ended; still sharing until interrupted (Ctrl+C).\n');
    await new Promise<never>(() => {});
  }
  return failures > 0 ? 1 : 0;
}

/** Whether `fd` is a pipe or a socket: another program reads what is written there. */
function isPipe(fd: number): boolean {
  try {
    const stat = fs.fstatSync(fd);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

async function loadProgressBar(): Promise<ProgressSink> {
  const { ProgressBar } = await import('./progress-bar.ts');
  return new ProgressBar();
}

runProgram('napshare peer', main);
