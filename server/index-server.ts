/**
 * The index server (seed 003, section 4): accepts peers over TCP and answers JOIN, SEARCH and
 * UPDATE, one handler per message type. It prints exactly the console contract's two lines
 * through `print`; diagnostics go to `log`.
 */
import net from 'node:net';
import { describeError, NapError } from '../shared/errors.ts';
import {
  decodeIndexRequest,
  errorReply,
  type IndexReply,
  type IndexRequest,
  type JoinRequest,
  MAX_INDEX_LINE_BYTES,
  type SearchRequest,
  type UpdateRequest,
} from '../shared/index-protocol.ts';
import { type Log, silentLog } from '../shared/log.ts';
import { serverJoinLine, serverSearchLine } from '../shared/messages.ts';
import { LineConnection } from './line-connection.ts';
import { listen } from './listen.ts';
import { type ConnectionId, Registry } from './registry.ts';

/**
 * Connections served at once. Each costs a socket and at most a 1 MiB line buffer; past this the
 * kernel's backlog holds newcomers instead of the server running out of memory or descriptors.
 */
export const MAX_CONNECTIONS = 4096;

export interface IndexServerOptions {
  host: string;
  port: number;
  /** Receives each console-contract line (the CLI writes them to stdout). */
  print: (line: string) => void;
  log?: Log;
}

export class IndexServer {
  readonly registry = new Registry();
  private readonly connections = new Map<ConnectionId, LineConnection>();
  private nextConnectionId = 1;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    private readonly options: IndexServerOptions,
    private readonly log: Log,
  ) {}

  /** Binds host:port (port 0: any free port). Rejects with ADDRESS_IN_USE when it is taken. */
  static async start(options: IndexServerOptions): Promise<IndexServer> {
    const server = net.createServer();
    server.maxConnections = MAX_CONNECTIONS;
    const index = new IndexServer(server, options, options.log ?? silentLog);
    server.on('connection', (socket) => index.onConnection(socket));
    await listen(server, options.host, options.port);
    const { host, port } = index.address();
    index.log(`index server listening on ${host}:${port}`);
    return index;
  }

  address(): { host: string; port: number } {
    const address = this.server.address() as net.AddressInfo;
    return { host: address.address, port: address.port };
  }

  /** Stops listening and drops every connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const connection of this.connections.values()) connection.close();
    });
    return this.closing;
  }

  // (seed 003, 4a) receives the requests of every peer, each on its own connection.
  private onConnection(socket: net.Socket): void {
    const id = this.nextConnectionId++;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.log(`connection #${id} from ${remote}`);
    socket.setNoDelay(true);
    const connection = new LineConnection(socket, {
      maxLineBytes: MAX_INDEX_LINE_BYTES,
      onLine: (line) => this.onLine(id, line),
      onOverflow: (error) => {
        this.log(`connection #${id}: ${error.message} Closing it.`);
        return errorReply(error.code, `${error.message} The connection is closed.`);
      },
      onClose: () => void this.onClose(id),
    });
    this.connections.set(id, connection);
  }

  private async onLine(id: ConnectionId, line: string): Promise<IndexReply> {
    try {
      const request = decodeIndexRequest(line);
      return await this.dispatch(id, request);
    } catch (error) {
      const code = error instanceof NapError ? error.code : 'BAD_REQUEST';
      this.log(`connection #${id}: refused ${JSON.stringify(line.slice(0, 200))}: ${describeError(error)}`);
      return errorReply(code, describeError(error));
    }
  }

  private dispatch(id: ConnectionId, request: IndexRequest): Promise<IndexReply> {
    switch (request.type) {
      case 'JOIN':
        return this.onJoin(id, request);
      case 'SEARCH':
        return this.onSearch(id, request);
      case 'UPDATE':
        return this.onUpdate(id, request);
    }
  }

  // JOIN request (seed 003, 4b): store the peer's address and files, answer JOIN_OK.
  private async onJoin(id: ConnectionId, request: JoinRequest): Promise<IndexReply> {
    const { entry, displaced } = await this.registry.join(id, request.ip, request.port, request.files);
    if (displaced !== undefined) this.log(`${entry.address} moved from connection #${displaced} to #${id}`);
    this.options.print(serverJoinLine(entry.address, entry.files));
    return { type: 'JOIN_OK' };
  }

  // SEARCH request (seed 003, 4c): exact name match, answer with the holders' addresses.
  private async onSearch(id: ConnectionId, request: SearchRequest): Promise<IndexReply> {
    const { requester, peers } = await this.registry.search(id, request.file);
    this.options.print(serverSearchLine(requester.address, request.file));
    return { type: 'SEARCH_OK', peers };
  }

  // UPDATE request (seed 003, 4d): the peer downloaded a file; add it to its entry.
  private async onUpdate(id: ConnectionId, request: UpdateRequest): Promise<IndexReply> {
    const entry = await this.registry.update(id, request.file);
    this.log(`${entry.address} now also shares ${request.file}`);
    return { type: 'UPDATE_OK' };
  }

  // A peer's connection closed: its entries leave the index.
  private async onClose(id: ConnectionId): Promise<void> {
    this.connections.delete(id);
    const entry = await this.registry.leave(id);
    this.log(`connection #${id} closed${entry ? `: ${entry.address} left the index` : ''}`);
  }
}
