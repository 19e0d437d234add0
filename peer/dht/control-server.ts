/**
 * The daemon's control socket (seed 000, 22: "pour le contacter, utilisez netcat"): plain text, one
 * command a line, each answer a few lines ended by an empty line so a program knows it is complete.
 * Listens on 127.0.0.1 only: whoever reaches it can publish any folder and download into ours.
 * Several clients at once; each client's commands run one after another, in order. A client that
 * sends binary data or a line over 64 KiB is cut off; nothing a client sends stops the daemon.
 */
import net from 'node:net';
import { listen } from '../../io/listen.ts';
import { describeError, isNapError } from '../../shared/errors.ts';
import { LineSplitter } from '../../shared/line-splitter.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import { escapeTerminalText } from '../../shared/terminal-text.ts';

/** Longest command line: a command is a word and a name or a path; 64 KiB is far past any of them. */
export const MAX_CONTROL_LINE_BYTES = 64 * 1024;
/** Control clients at once: a few terminals and scripts; more are refused by the listener. */
export const MAX_CONTROL_CLIENTS = 32;
/** Command lines read ahead of the one running before reading pauses (pipelined scripts). */
const MAX_QUEUED_COMMANDS = 16;
/**
 * Answer bytes a client may leave unread before it is cut off: the longest answer (a search
 * listing 200 holders of 1000 names) fits; a client that never reads does not grow our memory.
 */
const MAX_UNREAD_ANSWER_BYTES = 16 * 1024 * 1024;
/** How long a client that was cut off may take to close its side before we close it. */
const LINGER_AFTER_CUT_MS = 2000;
const NUL = 0x00;

export interface ControlAnswer {
  /** Non-empty lines; the server adds the empty line that ends the answer. */
  lines: string[];
  /** Close the connection after this answer (`quit`). */
  close?: boolean;
}

/** Runs one command line; never expected to throw (a throw becomes a one-line error answer). */
export type ControlHandler = (line: string) => Promise<ControlAnswer>;

export interface ControlServerOptions {
  host: string;
  port: number;
  handle: ControlHandler;
  log?: Log;
}

export class ControlServer {
  private readonly connections = new Set<ControlConnection>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    private readonly options: ControlServerOptions,
  ) {}

  /** Listens on host:port (0: a free port). Rejects with ADDRESS_IN_USE when it is taken. */
  static async start(options: ControlServerOptions): Promise<ControlServer> {
    // Half-open: `printf 'search x\n' | nc ...` ends its side at once and still expects the answers.
    const server = net.createServer({ allowHalfOpen: true });
    server.maxConnections = MAX_CONTROL_CLIENTS;
    const control = new ControlServer(server, options);
    server.on('connection', (socket) => control.onConnection(socket));
    await listen(server, options.host, options.port);
    return control;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Stops listening and closes every client. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const connection of this.connections) connection.close();
    });
    return this.closing;
  }

  private onConnection(socket: net.Socket): void {
    const log = this.options.log ?? silentLog;
    const connection = new ControlConnection(socket, this.options.handle, log);
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
    log(`control: client ${socket.remoteAddress}:${socket.remotePort} connected`);
  }
}

/** One control client: bounded line framing, a command queue, answers in order. */
class ControlConnection {
  private readonly splitter = new LineSplitter(MAX_CONTROL_LINE_BYTES);
  // Streaming and fatal: a UTF-8 character cut between two chunks is fine, an invalid byte is not.
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  private readonly queue: string[] = [];
  private working = false;
  private closed = false;
  /** The client sent its last line: answer what is queued, then close. */
  private ended = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly handle: ControlHandler,
    private readonly log: Log,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // A reset or a write to a vanished client ends that client, nobody else.
    socket.on('error', (error) => {
      this.log(`control: client error: ${describeError(error)}`);
      this.close();
    });
    socket.on('end', () => {
      this.ended = true;
      // A last command without its newline (`printf status | nc ...`) still counts.
      const rest = this.splitter.takeRest().toString('utf8').replace(/\r$/, '');
      if (!this.closed && rest !== '') this.queue.push(rest);
      if (this.queue.length > 0) void this.pump();
      else this.endIfDone();
    });
    socket.on('close', () => {
      this.closed = true;
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    // Commands are text: a NUL byte or invalid UTF-8 is binary data sent to the wrong port.
    if (chunk.includes(NUL)) {
      this.cutOff('binary data is not a command');
      return;
    }
    try {
      this.utf8.decode(chunk, { stream: true });
    } catch {
      this.cutOff('binary data is not a command');
      return;
    }
    let lines: string[];
    try {
      lines = this.splitter.push(chunk);
    } catch (error) {
      // LINE_TOO_LONG is the only failure the splitter has; anything else would cut off too.
      this.cutOff(
        isNapError(error, 'LINE_TOO_LONG')
          ? `a line is longer than ${MAX_CONTROL_LINE_BYTES / 1024} KiB`
          : describeError(error),
      );
      return;
    }
    this.queue.push(...lines);
    // A script that pipelines faster than commands run waits here instead of filling memory.
    if (this.queue.length >= MAX_QUEUED_COMMANDS) this.socket.pause();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const line = this.queue.shift() as string;
        if (this.queue.length < MAX_QUEUED_COMMANDS) this.socket.resume();
        // An empty line (Enter pressed alone in netcat) is no command and gets no answer.
        if (line.trim() === '') continue;
        let answer: ControlAnswer;
        try {
          answer = await this.handle(line);
        } catch (error) {
          answer = { lines: [describeError(error)] };
        }
        this.send(answer.lines);
        if (answer.close) {
          this.closed = true;
          this.socket.end();
        }
      }
    } finally {
      this.working = false;
      this.endIfDone();
    }
  }

  private endIfDone(): void {
    if (this.ended && !this.working && this.queue.length === 0 && !this.socket.destroyed) this.socket.end();
  }

  private send(lines: string[]): void {
    if (this.closed || this.socket.destroyed) return;
    if (this.socket.writableLength > MAX_UNREAD_ANSWER_BYTES) {
      this.log('control: client does not read its answers; cut off');
      this.close();
      return;
    }
    // One answer line never spans lines (an empty line is the end of the answer), and it goes to a
    // person's netcat: what other DHT nodes said is escaped (terminal-text.ts).
    const body = lines.map(escapeTerminalText).filter((line) => line !== '');
    this.socket.write(`${body.join('\n')}\n\n`);
  }

  /** Says why in one line, then closes; a client that does not close its side is dropped. */
  private cutOff(reason: string): void {
    this.log(`control: client cut off: ${reason}`);
    this.closed = true;
    this.queue.length = 0;
    this.socket.end(`Connection closed: ${reason}.\n\n`);
    setTimeout(() => this.socket.destroy(), LINGER_AFTER_CUT_MS).unref();
  }
}
