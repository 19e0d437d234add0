/**
 * The index server (seed 003, section 4): accepts peers over TCP and answers JOIN, SEARCH and
 * UPDATE, one handler per message type. It is also seed 002's discovery server on the same port:
 * aliases, the list of online peers, QUERY, SET_FILES, a chat relayed to every other member,
 * LEAVE, heartbeats and a maximum number of peers. It prints exactly the console contract's two
 * lines through `print` (nothing for the seed 002 requests); diagnostics go to `log`.
 * It lists only addresses it checked: a JOIN announces the IP its connection comes from (unless
 * `trustAnnouncedIp`), and an address or alias held by a live connection cannot be taken over.
 */
import net from 'node:net';
import {
  ConnectionGuard,
  type DismissCause,
  type GuardedConnection,
  type GuardLimits,
} from '../io/connection-guard.ts';
import { LineConnection, type LineReply } from '../io/line-connection.ts';
import { listen } from '../io/listen.ts';
import { describeError, NapError } from '../shared/errors.ts';
import {
  type AliasRequest,
  type ChatRequest,
  decodeIndexRequest,
  errorReply,
  type IndexPush,
  type IndexReply,
  type IndexRequest,
  type JoinRequest,
  type LeaveReason,
  MAX_INDEX_LINE_BYTES,
  type QueryRequest,
  type SetFilesRequest,
  type UpdateRequest,
  withAlias,
  withCaps,
} from '../shared/index-protocol.ts';
import { encodeLine } from '../shared/json-line.ts';
import { type Log, silentLog } from '../shared/log.ts';
import { serverJoinLine, serverSearchLine } from '../shared/messages.ts';
import { assertAnnouncedIp } from '../shared/peer-address.ts';
import { canonicalSearchName } from '../shared/search-line.ts';
import { chatBucket, type TokenBucket } from '../shared/token-bucket.ts';
import { decodeUtf8 } from '../shared/utf8-text.ts';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS, HeartbeatWatch } from './heartbeat-watch.ts';
import { HolderProbe } from './holder-probe.ts';
import type { IndexBudgets } from './index-budgets.ts';
import type { IndexCounts, IndexObserver } from './index-metrics.ts';
import { type ConnectionId, HeldError, type PeerEntry } from './registry.ts';
import type { IndexStore, SearchAnswer } from './store/index-store.ts';
import { MemoryStore } from './store/memory-store.ts';

/**
 * Connections served at once: above the 10,000 peers of one machine's load test, each a socket of
 * a few KiB (lines are bounded by INDEX_MAX_PENDING_INPUT_BYTES, not by this), and below the
 * 20,000 descriptors a process gets here. Past it a newcomer gets SERVER_BUSY.
 */
export const INDEX_MAX_CONNECTIONS = 16_384;
/**
 * Connections from one IP address: a machine runs a few peers and a classroom behind one NAT
 * fits; an attacker's address holds 64 connections and leaves the rest to everyone else.
 */
export const INDEX_MAX_CONNECTIONS_PER_IP = 64;
/** A connection that has not JOINed and sends no request for this long is closed (IDLE_TIMEOUT). */
export const INDEX_IDLE_TIMEOUT_MS = 30_000;
/** A line left unfinished this long closes its connection (LINE_TIMEOUT): slowloris. */
export const INDEX_LINE_TIMEOUT_MS = 30_000;
/**
 * Reply and pushed bytes a client may leave unread in the server (beyond the kernel's buffers)
 * before it is cut off: 100 KiB, as OpenNap. One larger reply still goes to a client that read
 * everything before it; replies wait for the client to read, so only pushes pile up.
 */
export const INDEX_MAX_UNREAD_BYTES = 100 * 1024;
/**
 * Bytes of unfinished (and queued) lines, all connections together: 64 JOINs of the largest line
 * (1 MiB) at once. Past it the connection holding the oldest unfinished line is closed
 * (SERVER_BUSY), so 1,000 connections each holding a partial line cost 64 MiB, not 1 GiB.
 */
export const INDEX_MAX_PENDING_INPUT_BYTES = 64 * 1024 * 1024;
/** CHAT messages a second per member (bursts of 4 s of it); past it the sender gets RATE_LIMITED. */
export const DEFAULT_CHAT_RATE_PER_SECOND = 5;

export const DEFAULT_INDEX_LIMITS: Readonly<Required<GuardLimits>> = {
  maxConnections: INDEX_MAX_CONNECTIONS,
  maxConnectionsPerIp: INDEX_MAX_CONNECTIONS_PER_IP,
  idleTimeoutMs: INDEX_IDLE_TIMEOUT_MS,
  lineTimeoutMs: INDEX_LINE_TIMEOUT_MS,
  maxUnreadBytes: INDEX_MAX_UNREAD_BYTES,
  maxPendingInputBytes: INDEX_MAX_PENDING_INPUT_BYTES,
};

/** The ERROR code each refusal of the connection guard carries on the index protocol. */
const REFUSAL_CODES = {
  SERVER_BUSY: 'SERVER_BUSY',
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  IDLE_TIMEOUT: 'IDLE_TIMEOUT',
  LINE_TIMEOUT: 'LINE_TIMEOUT',
  INPUT_BUDGET: 'SERVER_BUSY',
} as const satisfies Record<DismissCause, string>;

/**
 * Holders a JOIN may find gone before it gives up: the address's and the alias's. More would let
 * one JOIN make the server probe without end.
 */
const MAX_EVICTIONS_PER_JOIN = 2;

export interface IndexServerOptions extends Partial<IndexBudgets> {
  host: string;
  port: number;
  /**
   * Receives each console-contract line (the CLI writes them to stdout), terminal-safe as it is:
   * its names passed assertSafeFileName (terminal-text.ts's unsafeCharacter among its rules) when
   * their request was decoded, and its addresses are napshare's own formatting of checked IPs.
   */
  print: (line: string) => void;
  log?: Log;
  /** Silence after which a peer that has sent PING is dropped; default 45 s. */
  heartbeatTimeoutMs?: number;
  /** Connection caps, timeouts and buffer bounds; each defaults to DEFAULT_INDEX_LIMITS'. */
  limits?: Partial<GuardLimits>;
  /** CHAT messages a second per member; default DEFAULT_CHAT_RATE_PER_SECOND. */
  chatRatePerSecond?: number;
  /** Accept any announced IP, not only the connection's own (a server behind a proxy). */
  trustAnnouncedIp?: boolean;
  /** How long a holder has to answer a PROBE; default PROBE_TIMEOUT_MS. */
  probeTimeoutMs?: number;
  /** Told of every request answered and every ERROR sent (the `--metrics` endpoint). */
  observer?: IndexObserver;
  /**
   * Where the index lives: default, this server's own memory (MemoryStore, with the budgets
   * above); a RedisStore shares it with every server on that Redis. The caller closes it.
   */
  store?: IndexStore;
}

export class IndexServer {
  readonly registry: IndexStore;
  private readonly connections = new Map<ConnectionId, LineConnection>();
  private readonly guard: ConnectionGuard;
  // One bucket per connection that has chatted; gone with its connection.
  private readonly chatBuckets = new Map<ConnectionId, TokenBucket>();
  private readonly chatRate: number;
  private readonly heartbeats: HeartbeatWatch<ConnectionId>;
  private readonly probes: HolderProbe<ConnectionId>;
  // Connections cut for silence, so their departure is announced as a timeout.
  private readonly timedOut = new Set<ConnectionId>();
  private nextConnectionId = 1;
  // Bytes of the connections already closed; the open ones' are read from their sockets.
  private closedBytesIn = 0;
  private closedBytesOut = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    private readonly options: IndexServerOptions,
    private readonly log: Log,
  ) {
    this.registry = options.store ?? new MemoryStore(options);
    // Chat and departures from the other servers sharing the store, for this server's members.
    this.registry.onRemotePush((push) => {
      this.registry.members().then(
        (members) => this.push(members, push),
        () => {},
      );
    });
    this.probes = new HolderProbe(options.probeTimeoutMs);
    this.chatRate = options.chatRatePerSecond ?? DEFAULT_CHAT_RATE_PER_SECOND;
    this.guard = new ConnectionGuard({
      name: 'index',
      limits: { ...DEFAULT_INDEX_LIMITS, ...options.limits },
      format: (cause, message) => {
        options.observer?.refused(REFUSAL_CODES[cause]);
        return encodeLine(errorReply(REFUSAL_CODES[cause], message));
      },
      log,
    });
    this.heartbeats = new HeartbeatWatch(options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS, (id) =>
      this.onSilent(id),
    );
  }

  /** Binds host:port (port 0: any free port). Rejects with ADDRESS_IN_USE when it is taken. */
  static async start(options: IndexServerOptions): Promise<IndexServer> {
    const server = net.createServer();
    const index = new IndexServer(server, options, options.log ?? silentLog);
    index.guard.attach(server, (connection) => index.onConnection(connection));
    await listen(server, options.host, options.port);
    const { host, port } = index.address();
    index.log(`index server listening on ${host}:${port}`);
    return index;
  }

  address(): { host: string; port: number } {
    const address = this.server.address() as net.AddressInfo;
    return { host: address.address, port: address.port };
  }

  /** Connections open now (joined or not). */
  get connectionCount(): number {
    return this.guard.size;
  }

  /** What the metrics read: the index's size, the connections and their bytes. */
  counts(): IndexCounts {
    let bytesIn = this.closedBytesIn;
    let bytesOut = this.closedBytesOut;
    for (const { socket } of this.connections.values()) {
      bytesIn += socket.bytesRead;
      bytesOut += socket.bytesWritten;
    }
    const { peers, entries, names } = this.registry.lastCounts();
    return { peers, entries, names, connections: this.connectionCount, bytesIn, bytesOut };
  }

  /** Stops listening and drops every connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.heartbeats.close();
      this.server.close(() => resolve());
      this.guard.closeAll();
    });
    return this.closing;
  }

  // (seed 003, 4a) receives the requests of every peer, each on its own connection.
  private onConnection(guarded: GuardedConnection): void {
    const id = this.nextConnectionId++;
    this.log(`connection #${id} from ${guarded.name}`);
    guarded.socket.setNoDelay(true);
    // Until it JOINs, a connection must keep asking (IDLE_TIMEOUT); a joined peer may stay silent.
    guarded.expectRequest();
    const connection = new LineConnection(guarded, {
      maxLineBytes: MAX_INDEX_LINE_BYTES,
      onLine: (line) => this.onLine(id, line),
      // Any line is a sign of life, not only PING.
      onActive: () => {
        this.heartbeats.seen(id);
        this.probes.heard(id);
      },
      onOverflow: (error) => {
        this.log(`connection #${id}: ${error.message} Closing it.`);
        this.options.observer?.refused(error.code);
        return errorReply(error.code, `${error.message} The connection is closed.`);
      },
      onClose: () => void this.onClose(id),
    });
    this.connections.set(id, connection);
  }

  /** The reply to one line: at once for SEARCH and PING, a promise for what changes the index. */
  private onLine(id: ConnectionId, line: Buffer): LineReply | Promise<LineReply> {
    const observer = this.options.observer;
    if (observer === undefined) return this.answer(id, line);
    const started = performance.now();
    let type = 'INVALID';
    const reply = this.answer(id, line, (decoded) => {
      type = decoded;
    });
    const done = () => observer.answered(type, (performance.now() - started) / 1000);
    if (!(reply instanceof Promise)) {
      done();
      return reply;
    }
    return reply.finally(done);
  }

  private answer(
    id: ConnectionId,
    line: Buffer,
    decoded?: (type: IndexRequest['type']) => void,
  ): LineReply | Promise<LineReply> {
    try {
      // Most lines are a peer's SEARCH: read on its bytes (search-line.ts), answered without a
      // request object or the dispatch; any other line is decoded in full.
      const file = canonicalSearchName(line);
      let reply: LineReply | Promise<LineReply>;
      if (file !== undefined) {
        decoded?.('SEARCH');
        reply = this.onSearch(id, file);
      } else {
        const request = decodeIndexRequest(decodeUtf8(line));
        decoded?.(request.type);
        reply = this.dispatch(id, request);
      }
      return reply instanceof Promise
        ? reply.catch((error: unknown) => this.refusal(id, line, error))
        : reply;
    } catch (error) {
      return this.refusal(id, line, error);
    }
  }

  private refusal(id: ConnectionId, line: Buffer, error: unknown): IndexReply {
    const code = error instanceof NapError ? error.code : 'BAD_REQUEST';
    this.options.observer?.refused(code);
    const text = decodeUtf8(line, 0, Math.min(line.length, 800)).slice(0, 200);
    this.log(`connection #${id}: refused ${JSON.stringify(text)}: ${describeError(error)}`);
    return errorReply(code, describeError(error));
  }

  private dispatch(id: ConnectionId, request: IndexRequest): LineReply | Promise<LineReply> {
    switch (request.type) {
      case 'JOIN':
        return this.onJoin(id, request);
      case 'SEARCH':
        return this.onSearch(id, request.file);
      case 'UPDATE':
        return this.onUpdate(id, request);
      case 'ALIAS':
        return this.onAlias(id, request);
      case 'LIST':
        return this.onList(id);
      case 'QUERY':
        return this.onQuery(id, request);
      case 'SET_FILES':
        return this.onSetFiles(id, request);
      case 'CHAT':
        return this.onChat(id, request);
      case 'LEAVE':
        return this.onLeave(id);
      case 'PING':
        return this.onPing(id);
    }
  }

  // JOIN request (seed 003, 4b; seed 002 register): store the peer's address, files and alias,
  // once the address is the connection's own and no live connection holds it or the alias.
  private async onJoin(id: ConnectionId, request: JoinRequest): Promise<IndexReply> {
    // Otherwise any client could send every downloader to an address of its choosing.
    if (!this.options.trustAnnouncedIp)
      assertAnnouncedIp(request.ip, this.connections.get(id)?.socket.remoteAddress);
    const entry = await this.unlessHeld(() =>
      this.registry.join(id, request.ip, request.port, request.files, request.alias, request.caps),
    );
    this.options.print(serverJoinLine(entry.address, entry.files));
    // A joined peer may stay silent as long as it likes.
    this.connections.get(id)?.connection.stopExpecting();
    return { type: 'JOIN_OK' };
  }

  // SEARCH request (seed 003, 4c): exact name match, answer with the holders' addresses. At
  // once: one synchronous read of the registry (see registry.ts), its reply line ready-made.
  // A shared store (Redis) answers later: the line is printed once the answer is there.
  private onSearch(id: ConnectionId, file: string): LineReply | Promise<LineReply> {
    const answer = this.registry.searchReply(id, file);
    return answer instanceof Promise
      ? answer.then((later) => this.printSearch(later, file))
      : this.printSearch(answer, file);
  }

  // No closure per SEARCH: the memory store's answers come at once, thousands a second.
  private printSearch({ requester, reply }: SearchAnswer, file: string): string | Uint8Array {
    this.options.print(serverSearchLine(requester, file));
    return reply;
  }

  // UPDATE request (seed 003, 4d): the peer downloaded a file; add it to its entry.
  private async onUpdate(id: ConnectionId, request: UpdateRequest): Promise<IndexReply> {
    const address = await this.registry.update(id, request.file);
    this.log(`${address} now also shares ${request.file}`);
    return { type: 'UPDATE_OK' };
  }

  // ALIAS request (seed 002 `/setNick`): rename this peer, unless a live peer has that alias.
  private async onAlias(id: ConnectionId, request: AliasRequest): Promise<IndexReply> {
    const address = await this.unlessHeld(() => this.registry.setAlias(id, request.alias));
    this.log(`${address} is now called ${request.alias}`);
    return { type: 'ALIAS_OK', alias: request.alias };
  }

  // LIST request (seed 002 `/showall`): every online peer, alias -> address and file count.
  private async onList(id: ConnectionId): Promise<IndexReply> {
    return { type: 'LIST_OK', peers: await this.registry.list(id) };
  }

  // QUERY request (seed 002 `/query`): who holds exactly this file, with their aliases.
  private async onQuery(id: ConnectionId, request: QueryRequest): Promise<IndexReply> {
    const peers = await this.registry.query(id, request.file);
    const caps = await this.registry.holderCaps(peers.map((holder) => holder.address));
    return withCaps({ type: 'QUERY_OK', file: request.file, peers }, caps);
  }

  // SET_FILES request (seed 002 `/setSharedFiles`): replace this peer's file list.
  private async onSetFiles(id: ConnectionId, request: SetFilesRequest): Promise<IndexReply> {
    const { address, fileCount } = await this.registry.setFiles(id, request.files);
    this.log(`${address} now shares ${fileCount} files`);
    return { type: 'SET_FILES_OK', fileCount };
  }

  // CHAT request (seed 002 `sendToAll`): relay to every other member, never back to the sender.
  private async onChat(id: ConnectionId, request: ChatRequest): Promise<IndexReply> {
    // Flood control before any work: a member past its rate is told, and nothing is relayed.
    if (!this.takeChatToken(id)) {
      return errorReply(
        'RATE_LIMITED',
        `Too many chat messages: at most ${this.chatRate} a second; this one was not sent.`,
      );
    }
    const { sender, recipients, elsewhere } = await this.registry.chatRecipients(id);
    const chat = { type: 'CHAT' as const, alias: sender.alias, from: sender.address, text: request.text };
    this.push(recipients, chat);
    // The other servers' members: never the sender, who is this server's.
    this.registry.broadcast(chat);
    return { type: 'CHAT_OK', delivered: recipients.length + elsewhere };
  }

  // LEAVE request: this peer leaves the index; the connection stays open (it may JOIN again).
  private async onLeave(id: ConnectionId): Promise<IndexReply> {
    const entry = await this.registry.leave(id);
    if (entry) {
      this.log(`${entry.address} left the index (LEAVE)`);
      await this.announceLeft(entry, 'left');
    }
    // Not joined any more: it must keep asking, or it is closed (IDLE_TIMEOUT).
    this.connections.get(id)?.connection.expectRequest();
    return { type: 'LEAVE_OK' };
  }

  // PING request: the connection opts in to heartbeats; PONG says how long silence may last.
  private onPing(id: ConnectionId): IndexReply {
    this.heartbeats.optIn(id);
    return { type: 'PONG', timeoutMs: this.heartbeats.timeoutMs };
  }

  // An opted-in connection said nothing for the heartbeat timeout: it is gone (seed 002).
  private onSilent(id: ConnectionId): void {
    const connection = this.connections.get(id);
    if (connection === undefined) return;
    this.log(`connection #${id}: no heartbeat for ${this.heartbeats.timeoutMs} ms; dropping it`);
    this.timedOut.add(id);
    connection.close();
  }

  private takeChatToken(id: ConnectionId): boolean {
    const now = performance.now();
    let bucket = this.chatBuckets.get(id);
    if (bucket === undefined) {
      bucket = chatBucket(this.chatRate, now);
      this.chatBuckets.set(id, bucket);
    }
    return bucket.take(now);
  }

  // A peer's connection closed: its entries leave the index and the members hear of it.
  private async onClose(id: ConnectionId): Promise<void> {
    const socket = this.connections.get(id)?.socket;
    this.closedBytesIn += socket?.bytesRead ?? 0;
    this.closedBytesOut += socket?.bytesWritten ?? 0;
    this.connections.delete(id);
    this.chatBuckets.delete(id);
    this.heartbeats.forget(id);
    this.probes.forget(id);
    const reason = this.timedOut.delete(id) ? 'timeout' : 'closed';
    const entry = await this.registry.leave(id);
    this.log(`connection #${id} closed${entry ? `: ${entry.address} left the index` : ''}`);
    if (entry && this.closing === undefined) await this.announceLeft(entry, reason);
  }

  /**
   * Runs a registry change that may find the address or alias held (HeldError): if the holder is
   * proved gone (closed, or no answer to a PROBE), it is dropped and the change tried again;
   * otherwise the refusal stands (ADDRESS_IN_USE, ALIAS_TAKEN) and the holder keeps its entry.
   */
  private async unlessHeld<T>(change: () => Promise<T>): Promise<T> {
    for (let evicted = 0; ; evicted++) {
      try {
        return await change();
      } catch (error) {
        if (!(error instanceof HeldError) || evicted >= MAX_EVICTIONS_PER_JOIN) throw error;
        const connection = this.connections.get(error.holder);
        const alive = await this.probes.isAlive(error.holder, {
          closed: connection === undefined || connection.socket.destroyed,
          optedIn: this.heartbeats.isWatching(error.holder),
          send: () => connection?.send({ type: 'PROBE' }),
        });
        if (alive) throw error;
        await this.evict(error.holder);
      }
    }
  }

  // A holder proved gone: its entries leave now (not when its close is noticed), and it is cut.
  private async evict(id: ConnectionId): Promise<void> {
    const connection = this.connections.get(id);
    const reason = connection === undefined || connection.socket.destroyed ? 'closed' : 'timeout';
    if (reason === 'timeout') {
      this.log(`connection #${id}: no answer to a PROBE in ${this.probes.timeoutMs} ms; dropping it`);
      this.timedOut.add(id);
    }
    const entry = await this.registry.leave(id);
    connection?.close();
    if (entry) await this.announceLeft(entry, reason);
  }

  /** Tells every member that `entry`'s peer is gone (seed 002: the others can see it left). */
  private async announceLeft(entry: PeerEntry, reason: LeaveReason): Promise<void> {
    const left = withAlias({ type: 'PEER_LEFT' as const, address: entry.address, reason }, entry.alias);
    this.registry.broadcast(left);
    this.push(await this.registry.members(), left);
  }

  /**
   * Sends a pushed message. A member that does not read is cut off by its guard past
   * INDEX_MAX_UNREAD_BYTES unread, so a relay to it costs bounded memory and never slows the others.
   */
  private push(recipients: readonly ConnectionId[], message: IndexPush): void {
    for (const id of recipients) this.connections.get(id)?.send(message);
  }
}
