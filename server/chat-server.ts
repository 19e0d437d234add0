/**
 * The netcat chat server of seed 000 (section 2.2): every line a client sends goes, byte for byte,
 * to every other client and never back to its sender (question 8: no echo). A partial line is kept
 * until its newline; bytes are relayed as they came (no decoding), so binary data is just bytes.
 * Bounded everywhere: clients at once, line length, and output a client leaves unread.
 */
import net from 'node:net';
import { listen } from '../io/listen.ts';
import { describeError, isNapError } from '../shared/errors.ts';
import { LineSplitter } from '../shared/line-splitter.ts';
import { type Log, silentLog } from '../shared/log.ts';

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
/** How long a client we refuse or cut off may take to close its side. */
const LINGER_MS = 2000;
const NEWLINE = Buffer.from('\n');

export interface ChatServerOptions {
  host: string;
  port: number;
  maxClients?: number;
  log?: Log;
}

/** One connected client (seed 000, 6: "chaque nouvelle instance ... représente un nouveau client"). */
interface ChatClient {
  socket: net.Socket;
  name: string;
  /** Bytes of the line being received, before its newline. */
  /** Bytes of the line being typed are kept until its newline (bounded: MAX_CHAT_LINE_BYTES). */
  lines: LineSplitter;
}

export class ChatServer {
  /** seed 000, 2: factory.clients. */
  private readonly clients = new Set<ChatClient>();
  private readonly sockets = new Set<net.Socket>();
  private closing: Promise<void> | undefined;
  private readonly log: Log;
  private readonly maxClients: number;

  private constructor(
    private readonly server: net.Server,
    options: ChatServerOptions,
  ) {
    this.log = options.log ?? silentLog;
    this.maxClients = options.maxClients ?? DEFAULT_MAX_CHAT_CLIENTS;
  }

  /** Listens on host:port (0: a free port). Rejects with ADDRESS_IN_USE when it is taken. */
  static async start(options: ChatServerOptions): Promise<ChatServer> {
    const server = net.createServer();
    const chat = new ChatServer(server, options);
    server.on('connection', (socket) => chat.connectionMade(socket));
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
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  // connectionMade (seed 000, 6): add the client to the list.
  private connectionMade(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    // A reset or a write to a vanished client is that client's end, nobody else's.
    socket.on('error', (error) => this.log(`chat: ${describeError(error)}`));
    if (this.clients.size >= this.maxClients) {
      this.log(`chat: refused a client, already ${this.clients.size}`);
      this.dismiss(socket, `Chat server full (${this.maxClients} clients); try again later.\n`);
      return;
    }
    const client: ChatClient = {
      socket,
      name: `${socket.remoteAddress}:${socket.remotePort}`,
      lines: new LineSplitter(MAX_CHAT_LINE_BYTES),
    };
    this.clients.add(client);
    this.log(`chat: ${client.name} joined (${this.clients.size} clients)`);
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
    try {
      // Lines before an oversized one in the same chunk are still relayed, in order.
      for (let line = client.lines.shiftBytes(chunk); line !== null; line = client.lines.shiftBytes()) {
        this.relay(client, Buffer.concat([line, NEWLINE]));
        if (!this.clients.has(client)) return;
      }
    } catch (error) {
      if (!isNapError(error, 'LINE_TOO_LONG')) throw error;
      this.cutOff(client);
    }
  }

  /** Sends `line` (newline included) to every client but `from` (seed 000, 8: no echo). */
  private relay(from: ChatClient, line: Buffer): void {
    for (const other of [...this.clients]) {
      if (other === from) continue;
      if (other.socket.writableLength + line.length > MAX_UNREAD_BYTES) {
        this.log(`chat: ${other.name} does not read; cut off`);
        this.clients.delete(other);
        other.socket.destroy();
        continue;
      }
      other.socket.write(line);
    }
  }

  private cutOff(client: ChatClient): void {
    this.log(`chat: ${client.name} sent a line over ${MAX_CHAT_LINE_BYTES} bytes; cut off`);
    this.connectionLost(client);
    this.dismiss(client.socket, `Line longer than ${MAX_CHAT_LINE_BYTES / 1024} KiB; disconnected.\n`);
  }

  /** Tells the client why, closes our side, and drops it if it does not close its own. */
  private dismiss(socket: net.Socket, reason: string): void {
    socket.removeAllListeners('data');
    socket.resume();
    socket.end(reason);
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  }
}
