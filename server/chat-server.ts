/**
 * The netcat chat server of seed 000 (section 2.2): every line a client sends goes, byte for byte,
 * to every other client and never back to its sender (question 8: no echo). A partial line is kept
 * until its newline; bytes are relayed as they came (no decoding), so binary data is just bytes.
 * Bounded everywhere (io/connection-guard.ts): clients at once and per IP address, line length,
 * how long a line may stay unfinished and a client silent, lines a second per client, and output
 * a client leaves unread. The server's own texts are plain lines, sent only to the client concerned.
 */
import net from 'node:net';
import { ConnectionGuard, type DismissCause, type GuardedConnection } from '../io/connection-guard.ts';
import { listen } from '../io/listen.ts';
import { isNapError } from '../shared/errors.ts';
import { LineSplitter } from '../shared/line-splitter.ts';
import { type Log, silentLog } from '../shared/log.ts';
import { chatBucket, type TokenBucket } from '../shared/token-bucket.ts';

/** Longest line, newline excluded: chat lines are typed; past this a client is cut off. */
export const MAX_CHAT_LINE_BYTES = 64 * 1024;
/**
 * Clients at once by default. With MAX_UNREAD_BYTES each, the worst case (everybody stuck) stays
 * near 100 MiB; a room of netcat users is far below it.
 */
export const DEFAULT_MAX_CHAT_CLIENTS = 100;
/**
 * Relayed bytes a client may leave unread (queued in our socket buffer, beyond what the kernel
 * holds) before it is cut off: a client that does not read must not make us buffer without end.
 * A relayed line is one Buffer shared by every recipient's queue, not copied per client.
 */
export const MAX_UNREAD_BYTES = 1024 * 1024;
/**
 * Clients from one IP address: a room of people on their own machines, or a demo of a few
 * terminals on one; one address cannot take the whole room.
 */
export const DEFAULT_MAX_CHAT_CLIENTS_PER_IP = 16;
/**
 * A client that says nothing this long is disconnected: long enough for anyone reading along in a
 * lesson, short enough that forgotten or hostile idle sockets give their places back.
 */
export const CHAT_IDLE_TIMEOUT_MS = 60 * 60_000;
/** netcat sends a line when Enter is pressed: one unfinished this long is a slowloris. */
export const CHAT_LINE_TIMEOUT_MS = 30_000;
/** Lines a second a client may send (bursts of 4 s of it); more are dropped with a notice. */
export const DEFAULT_CHAT_LINES_PER_SECOND = 5;
/** The flood notice goes to a client at most this often, so it cannot become a flood itself. */
const RATE_NOTICE_INTERVAL_MS = 1000;
const NEWLINE = Buffer.from('\n');

export interface ChatServerOptions {
  host: string;
  port: number;
  maxClients?: number;
  maxClientsPerIp?: number;
  idleTimeoutMs?: number;
  lineTimeoutMs?: number;
  maxUnreadBytes?: number;
  linesPerSecond?: number;
  log?: Log;
}

/** One connected client (seed 000, 6: "chaque nouvelle instance ... représente un nouveau client"). */
interface ChatClient {
  connection: GuardedConnection;
  name: string;
  /** Bytes of the line being typed are kept until its newline (bounded: MAX_CHAT_LINE_BYTES). */
  lines: LineSplitter;
  rate: TokenBucket;
  lastNoticeMs: number;
}

export class ChatServer {
  /** seed 000, 2: factory.clients. */
  private readonly clients = new Set<ChatClient>();
  private closing: Promise<void> | undefined;
  private readonly log: Log;
  private readonly guard: ConnectionGuard;
  private readonly linesPerSecond: number;

  private constructor(
    private readonly server: net.Server,
    options: ChatServerOptions,
  ) {
    this.log = options.log ?? silentLog;
    this.linesPerSecond = options.linesPerSecond ?? DEFAULT_CHAT_LINES_PER_SECOND;
    const limits = {
      maxConnections: options.maxClients ?? DEFAULT_MAX_CHAT_CLIENTS,
      maxConnectionsPerIp: options.maxClientsPerIp ?? DEFAULT_MAX_CHAT_CLIENTS_PER_IP,
      idleTimeoutMs: options.idleTimeoutMs ?? CHAT_IDLE_TIMEOUT_MS,
      lineTimeoutMs: options.lineTimeoutMs ?? CHAT_LINE_TIMEOUT_MS,
      maxUnreadBytes: options.maxUnreadBytes ?? MAX_UNREAD_BYTES,
    };
    this.guard = new ConnectionGuard({
      name: 'chat',
      limits,
      format: (cause) =>
        `${chatRefusal(cause, limits.maxConnections, limits.maxConnectionsPerIp, limits.idleTimeoutMs, limits.lineTimeoutMs)}\n`,
      log: this.log,
    });
  }

  /** Listens on host:port (0: a free port). Rejects with ADDRESS_IN_USE when it is taken. */
  static async start(options: ChatServerOptions): Promise<ChatServer> {
    const server = net.createServer();
    const chat = new ChatServer(server, options);
    chat.guard.attach(server, (connection) => chat.connectionMade(connection));
    await listen(server, options.host, options.port);
    return chat;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Stops listening and disconnects everybody. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.server.close(() => resolve());
      this.guard.closeAll();
    });
    return this.closing;
  }

  // connectionMade (seed 000, 6): add the client to the list.
  private connectionMade(connection: GuardedConnection): void {
    const now = performance.now();
    const client: ChatClient = {
      connection,
      name: connection.name,
      lines: new LineSplitter(MAX_CHAT_LINE_BYTES),
      rate: chatBucket(this.linesPerSecond, now),
      lastNoticeMs: Number.NEGATIVE_INFINITY,
    };
    this.clients.add(client);
    connection.onStop(() => client.lines.takeRest());
    this.log(`chat: ${client.name} joined (${this.clients.size} clients)`);
    // Everyone is expected to speak now and then (CHAT_IDLE_TIMEOUT_MS).
    connection.expectRequest();
    const socket = connection.socket;
    socket.on('data', (chunk: Buffer) => this.dataReceived(client, chunk));
    socket.on('close', () => this.connectionLost(client));
  }

  // connectionLost (seed 000, 6): remove the client; its unfinished line is dropped, never sent.
  private connectionLost(client: ChatClient): void {
    if (!this.clients.delete(client)) return;
    this.log(`chat: ${client.name} left (${this.clients.size} clients)`);
  }

  // dataReceived (seed 000, 6): relay every complete line to every other client.
  private dataReceived(client: ChatClient, chunk: Buffer): void {
    if (!this.clients.has(client)) return;
    let completed = false;
    try {
      // Lines before an oversized one in the same chunk are still relayed, in order.
      for (let line = client.lines.shiftBytes(chunk); line !== null; line = client.lines.shiftBytes()) {
        completed = true;
        this.lineReceived(client, line);
        if (!this.clients.has(client)) return;
      }
    } catch (error) {
      if (!isNapError(error, 'LINE_TOO_LONG')) throw error;
      this.cutOff(client);
      return;
    }
    if (completed) client.connection.requestSeen();
    const pending = client.lines.bufferedBytes;
    client.connection.input(pending, pending > 0, completed);
  }

  /** One complete line of `client`: relayed, unless it floods (then dropped, with a notice). */
  private lineReceived(client: ChatClient, line: Buffer): void {
    const now = performance.now();
    if (client.rate.take(now)) {
      this.relay(client, Buffer.concat([line, NEWLINE]));
      return;
    }
    if (now - client.lastNoticeMs < RATE_NOTICE_INTERVAL_MS) return;
    client.lastNoticeMs = now;
    this.log(`chat: ${client.name} sends too fast; lines dropped`);
    client.connection.write(
      `Too many lines: at most ${this.linesPerSecond} a second; lines were not relayed.\n`,
    );
  }

  /** Sends `line` (newline included) to every client but `from` (seed 000, 8: no echo). */
  private relay(from: ChatClient, line: Buffer): void {
    for (const other of [...this.clients]) {
      if (other === from) continue;
      // A client that does not read is cut off past its unread bound; the others are undisturbed.
      if (!other.connection.write(line)) this.connectionLost(other);
    }
  }

  private cutOff(client: ChatClient): void {
    this.log(`chat: ${client.name} sent a line over ${MAX_CHAT_LINE_BYTES} bytes; cut off`);
    this.connectionLost(client);
    client.connection.dismissWith(`Line longer than ${MAX_CHAT_LINE_BYTES / 1024} KiB; disconnected.\n`);
  }
}

/** The chat server's own line for each refusal (plain text, like its other notices). */
function chatRefusal(
  cause: DismissCause,
  maxClients: number,
  maxPerIp: number,
  idleMs: number,
  lineMs: number,
): string {
  switch (cause) {
    case 'SERVER_BUSY':
    case 'INPUT_BUDGET':
      return `Chat server full (${maxClients} clients); try again later.`;
    case 'TOO_MANY_CONNECTIONS':
      return `Too many clients from your address (${maxPerIp}); try again later.`;
    case 'IDLE_TIMEOUT':
      return `Nothing sent for ${idleMs >= 60_000 ? `${Math.round(idleMs / 60_000)} min` : `${idleMs / 1000} s`}; disconnected.`;
    case 'LINE_TIMEOUT':
      return `Line left unfinished for ${lineMs / 1000} s; disconnected.`;
  }
}
