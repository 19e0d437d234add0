/**
 * The daemon's control socket (seed 000, 22: "pour le contacter, utilisez netcat"): plain text, one
 * command a line, each answer a few lines ended by an empty line so a program knows it is complete.
 * Listens on 127.0.0.1 only: whoever reaches it can publish any folder and download into ours.
 * Several clients at once; each client's commands run one after another, in order. A client that
 * sends binary data or a line over 64 KiB is cut off; nothing a client sends stops the daemon.
 */
import net from 'node:net';
import { ConnectionGuard, type DismissCause, type GuardedConnection } from '../../io/connection-guard.ts';
import { listen } from '../../io/listen.ts';
import { describeError, isNapError } from '../../shared/errors.ts';
import { LineSplitter } from '../../shared/line-splitter.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import { escapeTerminalText } from '../../shared/terminal-text.ts';

/** Longest command line: a command is a word and a name or a path; 64 KiB is far past any of them. */
export const MAX_CONTROL_LINE_BYTES = 64 * 1024;
/** Control clients at once: a few terminals and scripts; more get a line saying so. */
export const MAX_CONTROL_CLIENTS = 32;
/**
 * Control clients from one address (all are local, but each 127.x.y.z counts apart): a runaway
 * script on 127.0.0.1 takes half the places and leaves the rest to a person's netcat.
 */
export const MAX_CONTROL_CLIENTS_PER_IP = 16;
/**
 * A client that sends no command this long (none running) is closed: a person at netcat thinks
 * for minutes, not hours, and a forgotten terminal gives its place back.
 */
export const CONTROL_IDLE_TIMEOUT_MS = 10 * 60_000;
/** netcat sends a command when Enter is pressed: a line unfinished this long is a slowloris. */
export const CONTROL_LINE_TIMEOUT_MS = 30_000;
/** Command lines read ahead of the one running before reading pauses (pipelined scripts). */
const MAX_QUEUED_COMMANDS = 16;
/**
 * Answer bytes a client may leave unread in the daemon before it is cut off. Answers wait for
 * the client to read the previous one, so this holds one answer of any length (a search listing
 * 200 holders of 1000 names) and stops a client that never reads from growing our memory.
 */
export const MAX_UNREAD_ANSWER_BYTES = 1024 * 1024;
const NUL = 0x00;

export interface ControlLimits {
  maxClients: number;
  maxClientsPerIp: number;
  idleTimeoutMs: number;
  lineTimeoutMs: number;
}

export const DEFAULT_CONTROL_LIMITS: Readonly<ControlLimits> = {
  maxClients: MAX_CONTROL_CLIENTS,
  maxClientsPerIp: MAX_CONTROL_CLIENTS_PER_IP,
  idleTimeoutMs: CONTROL_IDLE_TIMEOUT_MS,
  lineTimeoutMs: CONTROL_LINE_TIMEOUT_MS,
};

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
  limits?: Partial<ControlLimits>;
  log?: Log;
}

export class ControlServer {
  private readonly connections = new Set<ControlConnection>();
  private closing: Promise<void> | undefined;
  private readonly guard: ConnectionGuard;
  private readonly idleTimeoutMs: number;

  private constructor(
    private readonly server: net.Server,
    private readonly options: ControlServerOptions,
  ) {
    const limits = { ...DEFAULT_CONTROL_LIMITS, ...options.limits };
    this.idleTimeoutMs = limits.idleTimeoutMs;
    this.guard = new ConnectionGuard({
      name: 'control',
      limits: {
        maxConnections: limits.maxClients,
        maxConnectionsPerIp: limits.maxClientsPerIp,
        idleTimeoutMs: limits.idleTimeoutMs,
        lineTimeoutMs: limits.lineTimeoutMs,
        maxUnreadBytes: MAX_UNREAD_ANSWER_BYTES,
      },
      format: (cause) => `Connection closed: ${controlRefusal(cause, limits)}.\n\n`,
      log: options.log,
    });
  }

  /** Listens on host:port (0: a free port). Rejects with ADDRESS_IN_USE when it is taken. */
  static async start(options: ControlServerOptions): Promise<ControlServer> {
    // Half-open: `printf 'search x\n' | nc ...` ends its side at once and still expects the answers.
    const server = net.createServer({ allowHalfOpen: true });
    const control = new ControlServer(server, options);
    control.guard.attach(server, (connection) => control.onConnection(connection));
    await listen(server, options.host, options.port);
    return control;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Clients connected now. */
  get clientCount(): number {
    return this.connections.size;
  }

  /** Stops listening and closes every client. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.server.close(() => resolve());
      this.guard.closeAll();
    });
    return this.closing;
  }

  private onConnection(guarded: GuardedConnection): void {
    const log = this.options.log ?? silentLog;
    const connection = new ControlConnection(guarded, this.options.handle, log, this.idleTimeoutMs);
    this.connections.add(connection);
    guarded.socket.on('close', () => this.connections.delete(connection));
    log(`control: client ${guarded.name} connected`);
  }
}

/** Why a client is refused or closed, after "Connection closed: ". */
function controlRefusal(cause: DismissCause, limits: ControlLimits): string {
  switch (cause) {
    case 'SERVER_BUSY':
    case 'INPUT_BUDGET':
      return `already ${limits.maxClients} control clients; try again later`;
    case 'TOO_MANY_CONNECTIONS':
      return `already ${limits.maxClientsPerIp} control clients from your address; try again later`;
    case 'IDLE_TIMEOUT':
      return `no command for ${limits.idleTimeoutMs >= 60_000 ? `${Math.round(limits.idleTimeoutMs / 60_000)} min` : `${limits.idleTimeoutMs / 1000} s`}`;
    case 'LINE_TIMEOUT':
      return `a line was left unfinished for ${limits.lineTimeoutMs / 1000} s`;
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
  private readonly socket: net.Socket;

  constructor(
    private readonly connection: GuardedConnection,
    private readonly handle: ControlHandler,
    private readonly log: Log,
    private readonly idleTimeoutMs: number,
  ) {
    const socket = connection.socket;
    this.socket = socket;
    connection.onStop(() => {
      this.splitter.takeRest();
      this.queue.length = 0;
    });
    // Waiting for a command: a client silent for the idle timeout is closed.
    connection.expectRequest();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // A reset or a write to a vanished client ends that client, nobody else.
    socket.on('error', (error) => {
      this.log(`control: client error: ${describeError(error)}`);
      this.close();
    });
    socket.on('end', () => {
      this.ended = true;
      this.connection.input(0, false, false);
      this.connection.stopExpecting();
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
    if (this.closed || this.connection.done) return;
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
    if (lines.length > 0) this.connection.requestSeen();
    const pending = this.splitter.bufferedBytes;
    this.connection.input(pending, pending > 0, lines.length > 0);
    if (this.connection.done) return;
    // A script that pipelines faster than commands run waits here instead of filling memory.
    if (this.queue.length >= MAX_QUEUED_COMMANDS) this.socket.pause();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.working) return;
    this.working = true;
    // A command running is not idleness: its answer may take a while (a search, a download).
    this.connection.stopExpecting();
    try {
      while (!this.closed && !this.connection.done && this.queue.length > 0) {
        // Answers wait for the client to read the previous one: unread output stays one answer deep.
        // A client that reads none of its answers for the idle timeout is cut off.
        await this.connection.drained(this.idleTimeoutMs);
        if (this.closed || this.connection.done) break;
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
      if (!this.ended) this.connection.expectRequest();
      this.endIfDone();
    }
  }

  private endIfDone(): void {
    if (this.ended && !this.working && this.queue.length === 0 && !this.socket.destroyed) this.socket.end();
  }

  private send(lines: string[]): void {
    if (this.closed || this.socket.destroyed) return;
    // One answer line never spans lines (an empty line is the end of the answer), and it goes to a
    // person's netcat: what other DHT nodes said is escaped (terminal-text.ts).
    const body = lines.map(escapeTerminalText).filter((line) => line !== '');
    // A client that leaves MAX_UNREAD_ANSWER_BYTES unread is cut off by its guard.
    if (!this.connection.write(`${body.join('\n')}\n\n`)) this.close();
  }

  /** Says why in one line, then closes; a client that does not close its side is dropped. */
  private cutOff(reason: string): void {
    this.log(`control: client cut off: ${reason}`);
    this.closed = true;
    this.queue.length = 0;
    this.connection.dismissWith(`Connection closed: ${reason}.\n\n`);
  }
}
