/**
 * `npm run peer -- dht-client --control PORT`: the seed's bonus (seed 000, 25), a small client for
 * the daemon's control socket for those without netcat. On a terminal: a `dht> ` prompt with line
 * editing, history (up/down arrows) and Tab completion of command names. With piped stdin it runs
 * one command a line, each after the previous answer, so it can be scripted. Answers go to stdout
 * without their closing empty line.
 */
import type net from 'node:net';
import readline from 'node:readline';
import { parseCommandLine, verboseLog } from '../../io/command-line.ts';
import { connectTcp } from '../../io/connect.ts';
import { parsePort } from '../../shared/address.ts';
import { NapError } from '../../shared/errors.ts';
import { LineSplitter } from '../../shared/line-splitter.ts';
import { terminalLine } from '../../shared/terminal-text.ts';
import { CONTROL_HOST, DEFAULT_CONTROL_PORT } from './daemon.ts';

/** Commands typed at the prompt that Tab completes. */
const COMMAND_NAMES = ['help', 'search ', 'search --all ', 'publish ', 'clean', 'get ', 'status', 'quit'];
/** Lines of history kept while the client runs. */
const HISTORY_SIZE = 1000;
/** Longest answer line accepted: a daemon line is a name and an address, far below this. */
const MAX_ANSWER_LINE_BYTES = 1024 * 1024;

const USAGE = `Usage: npm run -s peer -- dht-client [--control PORT] [--verbose]

Talks to a DHT daemon's control socket (${CONTROL_HOST}, default port ${DEFAULT_CONTROL_PORT}). Type help for its commands,
quit or Ctrl+D to leave. --verbose logs the connection and each command sent on stderr.`;

export async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, {
    command: 'npm run -s peer -- dht-client',
    usage: USAGE,
    options: { control: { type: 'string', default: String(DEFAULT_CONTROL_PORT) } },
  });
  if (!args) return 0;
  const { values } = args;
  const log = verboseLog(values.verbose, 'dht-client');
  const socket = await connectTcp(CONTROL_HOST, parsePort(values.control), 'the DHT daemon');
  log?.(`connected to the DHT daemon at ${CONTROL_HOST}:${socket.remotePort}`);
  const answers = new AnswerReader(socket);
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: interactive,
    historySize: HISTORY_SIZE,
    prompt: 'dht> ',
    completer: (line: string) => [COMMAND_NAMES.filter((name) => name.startsWith(line)), line],
  });
  // Ctrl+C at the prompt leaves, like Ctrl+D.
  rl.on('SIGINT', () => rl.close());
  // The daemon closing the connection (after quit, or when it stops) ends the prompt loop.
  let quitting = false;
  let lostDaemon = false;
  socket.once('close', () => {
    lostDaemon = !quitting;
    rl.close();
  });
  try {
    if (interactive) rl.prompt();
    for await (const line of rl) {
      if (line.trim() !== '') {
        quitting = line.trim().toLowerCase() === 'quit';
        log?.(`sent: ${line}`);
        socket.write(`${line}\n`);
        const answer = await answers.next();
        // terminal-text.ts: answers hold names and addresses other DHT nodes gave.
        for (const text of answer) process.stdout.write(terminalLine(text));
      }
      if (interactive) rl.prompt();
    }
    if (lostDaemon) {
      process.stderr.write('The DHT daemon closed the connection.\n');
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof NapError && error.code === 'CONNECTION_CLOSED') {
      process.stderr.write(terminalLine(error.message));
      return 1;
    }
    throw error;
  } finally {
    rl.close();
    socket.destroy();
  }
}

/** Reads answers: lines up to an empty line. */
class AnswerReader {
  private readonly splitter = new LineSplitter(MAX_ANSWER_LINE_BYTES);
  private current: string[] = [];
  private readonly ready: string[][] = [];
  private waiter: { resolve: (lines: string[]) => void; reject: (error: Error) => void } | undefined;
  closed = false;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk)) {
        if (line !== '') {
          this.current.push(line);
          continue;
        }
        this.ready.push(this.current);
        this.current = [];
      }
      this.wake();
    });
    const onEnd = () => {
      this.closed = true;
      this.wake();
    };
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onEnd);
  }

  /** The next complete answer; rejects if the daemon closes the connection first. */
  next(): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.wake();
    });
  }

  private wake(): void {
    if (!this.waiter) return;
    const answer = this.ready.shift();
    if (answer) {
      this.waiter.resolve(answer);
      this.waiter = undefined;
    } else if (this.closed) {
      this.waiter.reject(new NapError('CONNECTION_CLOSED', 'The DHT daemon closed the connection.'));
      this.waiter = undefined;
    }
  }
}
