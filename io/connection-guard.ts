/**
 * What every napshare TCP server owes its well-behaved clients whatever the others do: connection
 * caps per server and per IP address, deadlines (no request, a line left unfinished), a bound on
 * the input buffered in unfinished lines across all clients, and a bound on the output a client may
 * leave unread. A client over a limit is told why in one line of its server's protocol, then
 * closed; it is never silently reset (except a client that does not read, who would not see the
 * line). Socket code only; what the refusal says is the server's (`RefusalFormat`).
 */
import type net from 'node:net';
import { describeError } from '../shared/errors.ts';
import { type Log, silentLog } from '../shared/log.ts';
import {
  clientIp,
  type DismissCause,
  type GuardLimits,
  type RefusalFormat,
  refusalMessage,
} from './refusals.ts';

export { clientIp, type DismissCause, type GuardLimits, type RefusalFormat, refusalMessage };

export interface GuardOptions {
  /** What the logs call this server ("index", "file server"). */
  name: string;
  limits: GuardLimits;
  format: RefusalFormat;
  /** How long a refused or dismissed client may linger; default DISMISS_LINGER_MS. */
  lingerMs?: number;
  log?: Log;
}

/**
 * How long a refused or dismissed client has to read its line and close its side before it is
 * dropped: closing at once with its bytes unread would reset the connection and could destroy
 * the line before the client reads it.
 */
export const DISMISS_LINGER_MS = 2000;
/**
 * Refused or dismissed clients lingering at once, per server: a flood of newcomers costs at most
 * this many descriptors for DISMISS_LINGER_MS; past it the oldest is dropped (its line is sent).
 */
export const MAX_LINGERING = 1024;
/**
 * Bytes read (and dropped) from a lingering client before it is dropped at once: enough for what
 * a client had in flight when told; a client that keeps sending after that is not listening.
 */
export const MAX_DRAIN_BYTES = 64 * 1024;

export class ConnectionGuard {
  readonly limits: GuardLimits;
  private readonly open = new Set<GuardedConnection>();
  private readonly perIp = new Map<string, number>();
  // Sockets told why and waiting to close, oldest first (Set order); bounded by MAX_LINGERING.
  private readonly lingering = new Set<net.Socket>();
  // Connections holding unhandled input, in the order they started holding it (oldest first).
  private readonly holders = new Map<GuardedConnection, number>();
  private pendingInput = 0;
  private readonly log: Log;
  private closed = false;

  constructor(private readonly options: GuardOptions) {
    this.limits = options.limits;
    this.log = options.log ?? silentLog;
  }

  /** Serves `server`'s connections: admitted ones go to `onAdmit`, the others get their refusal. */
  attach(server: net.Server, onAdmit: (connection: GuardedConnection) => void): void {
    server.on('connection', (socket) => {
      const connection = this.admit(socket);
      if (connection) onAdmit(connection);
    });
    // Out of descriptors (EMFILE) or another accept failure: that newcomer is lost, the server
    // goes on. Bind errors before listening are listen()'s to report.
    server.on('error', (error) => {
      if (server.listening) this.log(`${this.options.name}: accept failed: ${describeError(error)}`);
    });
  }

  /** Admits `socket` within the caps, or refuses it with one line and returns undefined. */
  admit(socket: net.Socket): GuardedConnection | undefined {
    socket.on('error', (error) => this.log(`${this.options.name}: ${describeError(error)}`));
    const ip = clientIp(socket);
    if (this.closed || ip === '') {
      socket.destroy();
      return undefined;
    }
    const fromIp = this.perIp.get(ip) ?? 0;
    const cause: DismissCause | undefined =
      this.open.size >= this.limits.maxConnections
        ? 'SERVER_BUSY'
        : fromIp >= this.limits.maxConnectionsPerIp
          ? 'TOO_MANY_CONNECTIONS'
          : undefined;
    if (cause) {
      this.log(`${this.options.name}: refused ${ip}:${socket.remotePort}: ${cause}`);
      this.linger(socket, this.format(cause, ip));
      return undefined;
    }
    const connection = new GuardedConnection(this, socket, ip);
    this.open.add(connection);
    this.perIp.set(ip, fromIp + 1);
    socket.once('close', () => this.release(connection));
    return connection;
  }

  /** Connections admitted and not closed yet. */
  get size(): number {
    return this.open.size;
  }

  /** Connections admitted from `ip` and not closed yet. */
  countFrom(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  /** Refused or dismissed sockets not closed yet. */
  get lingeringCount(): number {
    return this.lingering.size;
  }

  /** Bytes received and not handled yet, all connections together. */
  get pendingInputBytes(): number {
    return this.pendingInput;
  }

  /** Drops every connection, lingering ones included; refuses newcomers from now on. Idempotent. */
  closeAll(): void {
    this.closed = true;
    for (const connection of [...this.open]) connection.socket.destroy();
    for (const socket of [...this.lingering]) socket.destroy();
  }

  /** @internal the refusal line for `cause`, in the server's protocol. */
  format(cause: DismissCause, ip: string): string | Uint8Array {
    return this.options.format(cause, refusalMessage(cause, this.limits, ip));
  }

  /**
   * @internal Ends `socket` after `line`, reading and dropping what the client still sends, and
   * destroys it after DISMISS_LINGER_MS if the client does not close first.
   */
  linger(socket: net.Socket, line: string | Uint8Array): void {
    if (socket.destroyed) return;
    drainAndDrop(socket);
    socket.end(line);
    if (this.lingering.size >= MAX_LINGERING) {
      const oldest = this.lingering.values().next().value as net.Socket;
      this.lingering.delete(oldest);
      oldest.destroy();
    }
    this.lingering.add(socket);
    const timer = setTimeout(() => socket.destroy(), this.options.lingerMs ?? DISMISS_LINGER_MS).unref();
    socket.once('close', () => {
      clearTimeout(timer);
      this.lingering.delete(socket);
    });
  }

  /** @internal `connection` now holds `bytes` of unhandled input; evicts the oldest past the budget. */
  hold(connection: GuardedConnection, bytes: number): void {
    const before = this.holders.get(connection) ?? 0;
    this.pendingInput += bytes - before;
    // A new holder goes last; one already holding keeps its place (Map.set keeps the order).
    if (bytes === 0) this.holders.delete(connection);
    else this.holders.set(connection, bytes);
    const budget = this.limits.maxPendingInputBytes ?? 0;
    if (budget <= 0 || this.pendingInput <= budget) return;
    for (const [holder] of this.holders) {
      if (this.pendingInput <= budget) break;
      this.log(`${this.options.name}: ${holder.ip} holds the oldest unfinished line; input budget full`);
      holder.dismiss('INPUT_BUDGET');
    }
  }

  /** @internal */
  note(message: string): void {
    this.log(`${this.options.name}: ${message}`);
  }

  private release(connection: GuardedConnection): void {
    connection.stop();
    if (!this.open.delete(connection)) return;
    const left = (this.perIp.get(connection.ip) ?? 1) - 1;
    if (left === 0) this.perIp.delete(connection.ip);
    else this.perIp.set(connection.ip, left);
  }
}

/** Reads and drops what the client still sends, up to MAX_DRAIN_BYTES; past it, drops the client. */
function drainAndDrop(socket: net.Socket): void {
  socket.removeAllListeners('data');
  let drained = 0;
  socket.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) socket.destroy();
  });
  socket.resume();
}

/** One admitted client: its deadlines, its input share and its bounded output. */
export class GuardedConnection {
  private idleTimer: NodeJS.Timeout | undefined;
  // expectRequest() was called and stopExpecting() not since: the client owes a request.
  private expecting = false;
  // A request is being answered (the server waits for its own work, e.g. the registry's lock):
  // the client is not idle meanwhile, however long a loaded server takes.
  private answering = false;
  private lineTimer: NodeJS.Timeout | undefined;
  private over = false;
  private readonly onStopped: (() => void)[] = [];
  // Characters written since cork(): still in the socket, not yet offered to the kernel.
  private corked: number | undefined;

  constructor(
    private readonly guard: ConnectionGuard,
    readonly socket: net.Socket,
    readonly ip: string,
  ) {}

  /** True once the connection was dismissed, cut or closed: nothing more is read or answered. */
  get done(): boolean {
    return this.over || this.socket.destroyed;
  }

  /**
   * Calls `release` once the connection is dismissed, cut or closed: the server frees what it
   * buffered for this client at once, not when the lingering socket is finally collected.
   */
  onStop(release: () => void): void {
    if (this.over) release();
    else this.onStopped.push(release);
  }

  /** The unread output past which `write` cuts this client off; 0: no bound. */
  get maxUnreadBytes(): number {
    return this.guard.limits.maxUnreadBytes ?? 0;
  }

  /** `IP:port` of the client, for logs. */
  get name(): string {
    return `${this.ip}:${this.socket.remotePort}`;
  }

  /**
   * The server waits for a request: without a complete one for the idle timeout, the client is
   * dismissed (IDLE_TIMEOUT). Restarts the deadline if it runs.
   */
  expectRequest(): void {
    this.expecting = true;
    this.armIdle();
  }

  /** The server no longer waits (a joined peer, a command running): no idle deadline. */
  stopExpecting(): void {
    this.expecting = false;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /**
   * The server starts (true) or ends (false) answering a request it must wait for: no idle
   * deadline runs meanwhile, and a full one starts when it ends if a request is still owed.
   * Waiting for the client to read a reply does not count: a client that does not read is idle.
   */
  setAnswering(answering: boolean): void {
    this.answering = answering;
    if (answering) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    } else if (this.expecting) this.armIdle();
  }

  private armIdle(): void {
    const ms = this.guard.limits.idleTimeoutMs ?? 0;
    if (ms <= 0 || this.done || this.answering) return;
    if (this.idleTimer) this.idleTimer.refresh();
    else this.idleTimer = setTimeout(() => this.dismiss('IDLE_TIMEOUT'), ms).unref();
  }

  /** A complete request arrived: a running idle deadline starts over. */
  requestSeen(): void {
    this.idleTimer?.refresh();
  }

  /**
   * Reports what this client's input holds after a read: `pendingBytes` received and not handled
   * yet (its share of the server's budget), `unfinished` when the last line has no newline yet,
   * and `completed` when a line was completed by this read (the line deadline starts over).
   */
  input(pendingBytes: number, unfinished: boolean, completed: boolean): void {
    if (this.done) return;
    const ms = this.guard.limits.lineTimeoutMs ?? 0;
    if (ms > 0) {
      if (!unfinished) {
        clearTimeout(this.lineTimer);
        this.lineTimer = undefined;
      } else if (!this.lineTimer) {
        this.lineTimer = setTimeout(() => this.dismiss('LINE_TIMEOUT'), ms).unref();
      } else if (completed) {
        this.lineTimer.refresh();
      }
    }
    this.guard.hold(this, pendingBytes);
  }

  /**
   * Writes `data` unless the client already leaves output unread past the bound: then it is cut
   * off (it does not read, so no line would reach it) and false is returned. One message larger
   * than the bound still goes to a client that has read everything before it.
   */
  write(data: string | Uint8Array): boolean {
    if (this.done) return false;
    const max = this.guard.limits.maxUnreadBytes ?? 0;
    // What the kernel would not take: corked replies are not unread, they were not sent yet.
    const queued = this.socket.writableLength - (this.corked ?? 0);
    if (max > 0 && queued > 0 && queued + data.length > max) {
      this.cut(`leaves ${queued} bytes unread`);
      return false;
    }
    this.socket.write(data);
    if (this.corked !== undefined) this.corked += data.length;
    return true;
  }

  /**
   * Holds what is written from now on until `uncork()`, which sends it in one write. The caller
   * bounds how much it writes meanwhile (line-connection.ts: until the socket needs draining).
   */
  cork(): void {
    if (this.corked !== undefined) return;
    this.corked = 0;
    this.socket.cork();
  }

  uncork(): void {
    if (this.corked === undefined) return;
    this.corked = undefined;
    this.socket.uncork();
  }

  /**
   * Resolves once the client has read what is queued for it (or the connection closed). With
   * `stallMs`, a client that reads nothing that long is cut off first: it holds a place for nothing.
   */
  drained(stallMs = 0): Promise<void> {
    const socket = this.socket;
    if (!socket.writableNeedDrain || this.done) return Promise.resolve();
    return new Promise((resolve) => {
      const timer =
        stallMs > 0 ? setTimeout(() => this.cut('does not read what it is sent'), stallMs) : undefined;
      const done = () => {
        clearTimeout(timer);
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.once('drain', done);
      socket.once('close', done);
    });
  }

  /** Tells the client why in one line of its protocol, then closes (see ConnectionGuard.linger). */
  dismiss(cause: DismissCause): void {
    this.dismissWith(this.guard.format(cause, this.ip));
  }

  /** Like dismiss, with a line the server wrote (e.g. LINE_TOO_LONG). */
  dismissWith(line: string | Uint8Array): void {
    if (this.done) return;
    this.stop();
    this.guard.linger(this.socket, line);
  }

  /**
   * Ends our side after `data` (the last reply) and gives the client `lingerMs` to read it and
   * close its own; a client that does not is dropped (a half-open socket must not stay forever).
   */
  finish(data: string | Uint8Array | undefined, lingerMs: number): void {
    if (this.done) return;
    this.stop();
    // Read (and drop) what comes, so the client's own end is seen and the socket closes then.
    drainAndDrop(this.socket);
    if (data === undefined) this.socket.end();
    else this.socket.end(data);
    const timer = setTimeout(() => this.socket.destroy(), lingerMs).unref();
    this.socket.once('close', () => clearTimeout(timer));
  }

  /** Closes at once, without a word (a client that does not read). */
  cut(reason: string): void {
    if (this.done) return;
    this.guard.note(`${this.name} cut off: ${reason}`);
    this.stop();
    this.socket.destroy();
  }

  /** @internal stops the deadlines and gives back the input share. */
  stop(): void {
    if (!this.over) for (const release of this.onStopped.splice(0)) release();
    this.over = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.lineTimer);
    this.idleTimer = undefined;
    this.lineTimer = undefined;
    this.guard.hold(this, 0);
  }
}
