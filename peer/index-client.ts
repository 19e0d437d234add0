/**
 * The peer's session with the index server (seed 003, section 5; seed 002's client), over one
 * IndexConnection at a time. Pushed messages (CHAT, PEER_LEFT) are emitted as `push` events.
 * After a successful JOIN the session keeps itself alive: a lost connection is reopened with
 * backoff and the JOIN sent again (with the alias and files as they are now), so a restarted
 * server gets its peers back without anyone typing anything. A server that answers NOT_JOINED
 * while this peer believes it is joined has lost its entry: the peer JOINs again on the same
 * connection and asks once more.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { connectTcp } from '../io/connect.ts';
import { formatAddress, type HostPort } from '../shared/address.ts';
import type { HolderCaps } from '../shared/capabilities.ts';
import { describeError, type ErrorCode, isNapError, NapError } from '../shared/errors.ts';
import { assertSafeFileName } from '../shared/file-names.ts';
import {
  assertAlias,
  type FileHolder,
  type IndexReply,
  type IndexRequest,
  type JoinRequest,
  joinRequest,
  type MemberPush,
  type PeerSummary,
} from '../shared/index-protocol.ts';
import { type Log, silentLog } from '../shared/log.ts';
import { IndexConnection } from './index-connection.ts';

export { DEFAULT_HEARTBEAT_INTERVAL_MS, REQUEST_TIMEOUT_MS } from './index-connection.ts';

/** First pause before reconnecting; it doubles after each failed attempt... */
export const RECONNECT_MIN_MS = 200;
/** ...up to this, so a server down for long is retried every few seconds, not hammered. */
export const RECONNECT_MAX_MS = 4000;

export interface IndexClientOptions {
  log?: Log;
  /** One-sentence notices for the user (connection lost, joined again); the CLIs use stderr. */
  notice?: (message: string) => void;
  /** Reconnect and JOIN again after losing a joined session (default true). */
  reconnect?: boolean;
  /** Send PING heartbeats (default true). */
  heartbeat?: boolean;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /**
   * Other index servers of the same index (`--server A,B`): a lost session reconnects to the
   * next one in turn, and JOINs there.
   */
  fallbacks?: readonly HostPort[];
}

interface IndexClientEvents {
  /** A message the server pushed (CHAT, PEER_LEFT). */
  push: [MemberPush];
  /** The session was lost and is being reopened. */
  lost: [NapError];
  /** A new connection is open and the JOIN was accepted again. */
  rejoined: [JoinRequest];
}

export class IndexClient extends EventEmitter<IndexClientEvents> {
  private connection: IndexConnection | undefined;
  private state: 'open' | 'reconnecting' | 'closed' = 'open';
  private closedError: NapError | undefined;
  // What a re-join announces: the last JOIN accepted, kept up to date by ALIAS/UPDATE/SET_FILES.
  private joinedAs: JoinRequest | undefined;
  private backoff: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  // The JOIN that answers a NOT_JOINED, shared by every request that got one meanwhile.
  private rejoining: Promise<void> | undefined;
  private where: string;
  // Every server this session may use; `current` is the one it is on (or trying).
  private readonly servers: HostPort[];
  private current = 0;
  private readonly log: Log;
  private readonly notice: (message: string) => void;

  private constructor(
    socket: Socket,
    servers: HostPort[],
    current: number,
    private readonly options: IndexClientOptions,
  ) {
    super();
    this.servers = servers;
    this.current = current;
    this.where = formatAddress((servers[current] as HostPort).host, (servers[current] as HostPort).port);
    this.log = options.log ?? silentLog;
    this.notice = options.notice ?? (() => {});
    this.attach(socket);
  }

  static async connect(
    host: string,
    port: number,
    options: Log | IndexClientOptions = {},
  ): Promise<IndexClient> {
    const settings = typeof options === 'function' ? { log: options } : options;
    const servers = [{ host, port }, ...(settings.fallbacks ?? [])];
    // The first server that answers; the others only when it does not.
    for (let index = 0; ; index++) {
      const server = servers[index] as HostPort;
      try {
        const socket = await connectTcp(server.host, server.port, 'the index server');
        settings.log?.(`connected to the index server at ${formatAddress(server.host, server.port)}`);
        return new IndexClient(socket, servers, index, settings);
      } catch (error) {
        if (index === servers.length - 1) throw unreachable(error);
        settings.log?.(`index server ${formatAddress(server.host, server.port)}: ${describeError(error)}`);
      }
    }
  }

  /** True once closed for good (close(), or lost before any JOIN); a joined session reconnects. */
  get closed(): boolean {
    return this.state === 'closed';
  }

  get connected(): boolean {
    return this.state === 'open';
  }

  /**
   * JOIN (seed 003, 5b; seed 002 register): announce address, files, alias and the capabilities
   * of this peer's file server (shared/capabilities.ts; a re-join announces them again).
   */
  async join(
    ip: string,
    port: number,
    files: string[],
    alias?: string,
    caps?: readonly string[],
  ): Promise<void> {
    const request = joinRequest(ip, port, [...new Set(files)], alias, caps);
    await this.expect(request, 'JOIN_OK');
    this.joinedAs = request;
  }

  /** SEARCH, the addresses only: the peers holding exactly `file`. */
  async search(file: string): Promise<string[]> {
    return (await this.searchHolders(file)).peers;
  }

  /**
   * SEARCH (seed 003, 5d): the peers holding exactly `file`, with the capabilities the index knows
   * of each (absent: it announced none).
   */
  async searchHolders(file: string): Promise<{ peers: string[]; caps: HolderCaps }> {
    const reply = await this.expect({ type: 'SEARCH', file }, 'SEARCH_OK');
    return reply.type === 'SEARCH_OK'
      ? { peers: reply.peers, caps: reply.caps ?? {} }
      : { peers: [], caps: {} };
  }

  /** UPDATE (seed 003, 5c): this peer now holds `file`. While reconnecting, the re-join says so. */
  async update(file: string): Promise<void> {
    this.remember((joined) => {
      if (!joined.files.includes(assertSafeFileName(file))) joined.files.push(file);
    });
    if (this.state === 'reconnecting' && this.joinedAs) return;
    await this.expect({ type: 'UPDATE', file }, 'UPDATE_OK');
  }

  /** ALIAS (seed 002 `/setNick`). While reconnecting, the re-join carries the new alias. */
  async setAlias(alias: string): Promise<void> {
    assertAlias(alias);
    this.remember((joined) => {
      joined.alias = alias;
    });
    if (this.state === 'reconnecting' && this.joinedAs) return;
    await this.expect({ type: 'ALIAS', alias }, 'ALIAS_OK');
  }

  /** SET_FILES (seed 002 `/setSharedFiles`): replaces the shared list; resolves with its size. */
  async setFiles(files: string[]): Promise<number> {
    const unique = [...new Set(files.map(assertSafeFileName))];
    this.remember((joined) => {
      joined.files = [...unique];
    });
    if (this.state === 'reconnecting' && this.joinedAs) return unique.length;
    const reply = await this.expect({ type: 'SET_FILES', files: unique }, 'SET_FILES_OK');
    return reply.type === 'SET_FILES_OK' ? reply.fileCount : unique.length;
  }

  /** LIST (seed 002 `/showall`): every online peer. */
  async list(): Promise<PeerSummary[]> {
    const reply = await this.expect({ type: 'LIST' }, 'LIST_OK');
    return reply.type === 'LIST_OK' ? reply.peers : [];
  }

  /** QUERY (seed 002 `/query`): who holds exactly `file`, with aliases. */
  async query(file: string): Promise<FileHolder[]> {
    return (await this.queryHolders(file)).peers;
  }

  /** QUERY, with the capabilities the index knows of each holder (absent: it announced none). */
  async queryHolders(file: string): Promise<{ peers: FileHolder[]; caps: HolderCaps }> {
    const reply = await this.expect({ type: 'QUERY', file }, 'QUERY_OK');
    return reply.type === 'QUERY_OK'
      ? { peers: reply.peers, caps: reply.caps ?? {} }
      : { peers: [], caps: {} };
  }

  /** CHAT (seed 002): relayed to every other member; resolves with how many got it. */
  async chat(text: string): Promise<number> {
    const reply = await this.expect({ type: 'CHAT', text }, 'CHAT_OK');
    return reply.type === 'CHAT_OK' ? reply.delivered : 0;
  }

  /** LEAVE: this peer leaves the index and will not re-join by itself. */
  async leave(): Promise<void> {
    const wasJoined = this.joinedAs !== undefined;
    this.joinedAs = undefined;
    if (wasJoined && this.state === 'open') await this.expect({ type: 'LEAVE' }, 'LEAVE_OK');
  }

  /** Sends one request and resolves with its reply (ERROR replies included). */
  request(message: IndexRequest): Promise<IndexReply> {
    if (this.state === 'closed')
      return Promise.reject(this.closedError ?? new NapError('CONNECTION_CLOSED', 'Closed.'));
    if (this.state === 'reconnecting' || this.connection === undefined) {
      return Promise.reject(
        new NapError(
          'CONNECTION_CLOSED',
          `Not connected to the index server at ${this.where} right now; reconnecting in the background.`,
        ),
      );
    }
    return this.connection.request(message);
  }

  /** Ends the session (the server then drops this peer's entries). Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closedError = new NapError('CONNECTION_CLOSED', 'The session with the index server is closed.');
    if (this.backoff) {
      clearTimeout(this.backoff.timer);
      this.backoff.wake();
    }
    this.connection?.close(this.closedError);
    this.connection = undefined;
  }

  private remember(change: (joined: JoinRequest) => void): void {
    if (this.joinedAs) change(this.joinedAs);
  }

  private async expect(message: IndexRequest, type: IndexReply['type']): Promise<IndexReply> {
    const reply = await this.request(message);
    if (reply.type === 'ERROR' && reply.code === 'NOT_JOINED' && message.type !== 'JOIN' && this.joinedAs) {
      await this.rejoinHere(this.joinedAs);
      return checkReply(message, await this.request(message), type);
    }
    return checkReply(message, reply, type);
  }

  // The server lost this peer's entry and kept the connection: JOIN again (address, alias and
  // files as they are now) and tell the user, as after a reconnect.
  private rejoinHere(join: JoinRequest): Promise<void> {
    this.rejoining ??= (async () => {
      try {
        checkReply(join, await this.request(join), 'JOIN_OK');
        this.notice(`The index server at ${this.where} had lost this peer's entry; ${joinedAgain(join)}.`);
        this.emit('rejoined', join);
      } finally {
        this.rejoining = undefined;
      }
    })();
    return this.rejoining;
  }

  private attach(socket: Socket): IndexConnection {
    const connection: IndexConnection = new IndexConnection(socket, {
      where: this.where,
      log: this.log,
      heartbeat: this.options.heartbeat !== false,
      onPush: (push) => this.emit('push', push),
      onLost: (error) => this.lost(connection, error),
    });
    this.connection = connection;
    return connection;
  }

  // The connection is gone: reconnect if there is a JOIN to redo, else the session is over.
  private lost(connection: IndexConnection, error: NapError): void {
    if (connection !== this.connection) return;
    this.connection = undefined;
    if (this.state !== 'open') return; // closed by us, or the reconnect loop handles it
    if (this.options.reconnect === false || this.joinedAs === undefined) {
      this.state = 'closed';
      this.closedError = error;
      return;
    }
    this.state = 'reconnecting';
    this.notice(`Lost the index server at ${this.where}; reconnecting.`);
    this.emit('lost', error);
    void this.reconnect();
  }

  // Reconnect with exponential backoff (and jitter, so peers do not all knock at once), then JOIN
  // again. Runs until it succeeds, the peer LEAVEs, or close() is called.
  private async reconnect(): Promise<void> {
    let delay = this.options.reconnectMinMs ?? RECONNECT_MIN_MS;
    const longest = this.options.reconnectMaxMs ?? RECONNECT_MAX_MS;
    let refusalTold = false;
    for (let attempt = 1; this.state === 'reconnecting'; attempt++) {
      await this.pause(delay * (0.75 + Math.random() / 2));
      delay = Math.min(delay * 2, longest);
      const join = this.joinedAs;
      if (this.state !== 'reconnecting') return;
      if (join === undefined) {
        this.state = 'closed';
        this.closedError = new NapError('CONNECTION_CLOSED', 'The session with the index server is closed.');
        return;
      }
      // The next server in turn (the same one when there is only one).
      this.current = (this.current + 1) % this.servers.length;
      const server = this.servers[this.current] as HostPort;
      this.where = formatAddress(server.host, server.port);
      try {
        const socket = await connectTcp(server.host, server.port, 'the index server');
        if (this.state !== 'reconnecting') {
          socket.destroy();
          return;
        }
        const connection = this.attach(socket);
        checkReply(join, await connection.request(join), 'JOIN_OK');
        if (this.state !== 'reconnecting') return;
        this.state = 'open';
        this.notice(`Reconnected to the index server at ${this.where}; ${joinedAgain(join)}.`);
        this.emit('rejoined', join);
        return;
      } catch (error) {
        // Drop a connection whose JOIN was refused; the next attempt opens a new one.
        this.connection?.close(new NapError('CONNECTION_CLOSED', describeError(error)));
        this.connection = undefined;
        this.log(`reconnect attempt ${attempt} failed: ${describeError(error)}`);
        // A server that answers but refuses the JOIN (ADDRESS_IN_USE while the old connection is
        // being probed, SERVER_FULL...) is worth one sentence; unreachable ones are not news.
        if (!refusalTold && isNapError(error) && !UNREACHABLE.has(error.code)) {
          refusalTold = true;
          this.notice(`${describeError(error)} Trying again.`);
        }
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.backoff = undefined;
        resolve();
      }, ms);
      timer.unref();
      this.backoff = { timer, wake: resolve };
    });
  }
}

/** Errors of a server that is down or unreachable, as opposed to one that refused the JOIN. */
const UNREACHABLE: ReadonlySet<ErrorCode> = new Set(['CONNECT_FAILED', 'CONNECTION_CLOSED', 'TIMEOUT']);

function joinedAgain(join: JoinRequest): string {
  const who = join.alias === undefined ? '' : ` as ${join.alias}`;
  const files = `${join.files.length} file${join.files.length === 1 ? '' : 's'}`;
  return `joined again${who} with ${formatAddress(join.ip, join.port)} (${files})`;
}

function checkReply(message: IndexRequest, reply: IndexReply, type: IndexReply['type']): IndexReply {
  if (reply.type === 'ERROR') {
    throw new NapError(reply.code as ErrorCode, `The index server refused ${message.type}: ${reply.message}`);
  }
  if (reply.type !== type)
    throw new NapError('PROTOCOL', `The index server answered ${reply.type} to ${message.type}.`);
  return reply;
}

/**
 * The index server could not be reached: the sentence also says how to reach one elsewhere (a
 * server started on another port than 1099, or on another machine, is found only if told).
 */
function unreachable(error: unknown): unknown {
  if (!isNapError(error, 'CONNECT_FAILED') && !isNapError(error, 'TIMEOUT')) return error;
  const sentence = error.message.replace(/\.$/, '');
  return new NapError(
    error.code,
    `${sentence}; if it runs on another address or port, start this peer with --server HOST:PORT.`,
    { cause: error },
  );
}
