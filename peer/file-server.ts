/**
 * A peer's file server (seed 003, 5a and 5g): answers DOWNLOAD, INFO and LIST on the peer's
 * announced address, one request per connection. Bodies are streamed with backpressure, never read
 * whole; uploads above a limit are refused with BUSY so each one keeps a fair share.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import { listen } from '../io/listen.ts';
import { SocketLines } from '../io/socket-lines.ts';
import { describeError, isNapError, NapError } from '../shared/errors.ts';
import { encodeLine } from '../shared/json-line.ts';
import { type Log, silentLog } from '../shared/log.ts';
import {
  type DownloadRejected,
  type DownloadRequest,
  decodeTransferRequest,
  type InfoRequest,
  type ListRequest,
  MAX_TRANSFER_REQUEST_BYTES,
  rejection,
  type TransferRequest,
} from '../shared/transfer-protocol.ts';
import { currentVersion, fileVersion, HashCache } from './file-hasher.ts';
import { streamInfo } from './info-stream.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { sendFileRange } from './send-file.ts';
import type { Catalog } from './shared-folder.ts';

/** Uploads at once by default: enough for several downloaders, few enough that each is fast. */
export const DEFAULT_MAX_UPLOADS = 8;
/** Open connections at most (uploads and requests being read); the rest wait in the backlog. */
const MAX_CONNECTIONS = 256;
/** A client has this long to send its request line; idle connections must not pile up. */
const REQUEST_TIMEOUT_MS = 30_000;
/** LIST replies name at most this many files (about 2.5 MB at 255 bytes a name). */
const MAX_LIST_NAMES = 10_000;

/** A line exchange with the client, for guards that need a round trip (LAN passwords). */
export interface Exchange {
  remoteAddress: string;
  send(message: object): void;
  nextLine(timeoutMs: number): Promise<string>;
}

/**
 * Decides whether a request may proceed: null to allow it, a rejection to refuse it. Runs after
 * the request is decoded and before any file is opened.
 */
export type RequestGuard = (request: TransferRequest, exchange: Exchange) => Promise<DownloadRejected | null>;

export interface FileServerOptions {
  host: string;
  port: number;
  catalog: Catalog;
  maxUploads?: number;
  limiter?: RateLimiter | undefined;
  guard?: RequestGuard;
  log?: Log;
}

export class FileServer {
  private readonly sockets = new Set<net.Socket>();
  private readonly hashes = new HashCache();
  private uploads = 0;
  private closing: Promise<void> | undefined;
  private readonly log: Log;
  private readonly maxUploads: number;

  private constructor(
    private readonly server: net.Server,
    private readonly options: FileServerOptions,
  ) {
    this.log = options.log ?? silentLog;
    this.maxUploads = options.maxUploads ?? DEFAULT_MAX_UPLOADS;
  }

  /** Listens on host:port (0: a free port). Rejects with ADDRESS_IN_USE when it is taken. */
  static async start(options: FileServerOptions): Promise<FileServer> {
    const server = net.createServer();
    server.maxConnections = MAX_CONNECTIONS;
    const fileServer = new FileServer(server, options);
    server.on('connection', (socket) => void fileServer.onConnection(socket));
    await listen(server, options.host, options.port);
    fileServer.log(`file server listening on ${options.host}:${fileServer.port}`);
    return fileServer;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get activeUploads(): number {
    return this.uploads;
  }

  /** Bytes handed to upload sockets and not yet taken by the kernel: what uploads hold in memory. */
  get bufferedBytes(): number {
    let bytes = 0;
    for (const socket of this.sockets) bytes += socket.writableLength;
    return bytes;
  }

  /** Stops listening and cuts every transfer. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  // (seed 003, 5a) receives the requests of other peers, each on its own connection.
  private async onConnection(socket: net.Socket): Promise<void> {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (error) => this.log(`upload connection error: ${describeError(error)}`));
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const lines = new SocketLines(socket, MAX_TRANSFER_REQUEST_BYTES, `client ${remote}`);
    const exchange: Exchange = {
      remoteAddress: socket.remoteAddress ?? '',
      send: (message) => socket.write(encodeLine(message)),
      nextLine: (timeoutMs) => lines.nextLine(timeoutMs),
    };
    try {
      const line = await lines.nextLine(REQUEST_TIMEOUT_MS);
      let request: TransferRequest;
      try {
        request = decodeTransferRequest(line);
      } catch (error) {
        const reason = isNapError(error, 'UNSAFE_NAME') ? 'UNSAFE_NAME' : 'BAD_REQUEST';
        return this.refuse(socket, remote, rejection(reason, describeError(error)));
      }
      const refusal = this.options.guard ? await this.options.guard(request, exchange) : null;
      if (refusal) return this.refuse(socket, remote, refusal);
      switch (request.type) {
        case 'DOWNLOAD':
          return await this.onDownload(socket, remote, request);
        case 'INFO':
          return await this.onInfo(socket, remote, request);
        case 'LIST':
          return await this.onList(socket, request);
      }
    } catch (error) {
      this.log(`${remote}: ${describeError(error)}`);
      socket.destroy();
    }
  }

  // DOWNLOAD request (seed 003, 5g): send the file if we have it, else reject.
  private async onDownload(socket: net.Socket, remote: string, request: DownloadRequest): Promise<void> {
    if (this.uploads >= this.maxUploads) {
      return this.refuse(
        socket,
        remote,
        rejection('BUSY', `Already ${this.uploads} uploads in progress; try again later.`),
      );
    }
    this.uploads++;
    try {
      const shared = await this.options.catalog.find(request.file).catch((error: unknown) => error as Error);
      if (shared instanceof Error) {
        const reason = isNapError(shared, 'NOT_FOUND') ? 'NOT_FOUND' : 'IO_ERROR';
        return this.refuse(socket, remote, rejection(reason, describeError(shared)));
      }
      const handle = await fs.open(shared.path, 'r');
      try {
        const stat = await handle.stat({ bigint: true });
        const size = Number(stat.size);
        // The version the bytes are sent from; they must all come from it (docs/protocol.md, INFO).
        const version = fileVersion(stat);
        if (request.version !== undefined && request.version !== version) {
          this.hashes.forget(shared.path);
          return this.refuse(
            socket,
            remote,
            rejection('CHANGED', `${request.file} changed since its INFO; ask INFO again.`),
          );
        }
        const offset = request.offset ?? 0;
        if (offset > size || (request.length !== undefined && request.length > size - offset)) {
          return this.refuse(
            socket,
            remote,
            rejection('BAD_RANGE', `The range asked is outside the file's ${size} bytes.`),
          );
        }
        const length = request.length ?? size - offset;
        this.log(`${remote}: sending ${request.file} bytes ${offset}-${offset + length} of ${size}`);
        socket.write(encodeLine({ type: 'DOWNLOAD_OK', size: length }));
        await sendFileRange(socket, handle, offset, length, {
          limiter: this.options.limiter,
          check: () => this.stillVersion(handle, version, shared.path, request.file),
        });
        socket.end();
        this.log(`${remote}: sent ${request.file}`);
      } finally {
        await handle.close();
      }
    } finally {
      this.uploads--;
    }
  }

  // INFO request: size, SHA-256 and piece hashes (computed once, then cached); or, asked with
  // `prefixes`, the prefix hashes streamed as they are computed.
  private async onInfo(socket: net.Socket, remote: string, request: InfoRequest): Promise<void> {
    const shared = await this.options.catalog.find(request.file).catch((error: unknown) => error as Error);
    if (shared instanceof Error)
      return this.refuse(socket, remote, rejection('NOT_FOUND', describeError(shared)));
    if (request.prefixes) return streamInfo(socket, request.file, await this.hashes.stream(shared));
    const info = await this.hashes.get(shared).catch((error: unknown) => error as Error);
    // Written to while it was hashed: the downloader asks again (its INFO is retried).
    if (isNapError(info, 'CHANGED'))
      return this.refuse(
        socket,
        remote,
        rejection('CHANGED', `${request.file} changed while it was being hashed; ask INFO again.`),
      );
    if (info instanceof Error) throw info;
    socket.end(encodeLine({ type: 'INFO_OK', ...info }));
  }

  /**
   * Throws CHANGED once the file being sent is no longer `version` (written to, truncated):
   * the transfer is cut rather than send bytes of two versions, and its cached hashes dropped.
   */
  private async stillVersion(handle: fs.FileHandle, version: string, filePath: string, file: string) {
    if ((await currentVersion(handle)) === version) return;
    this.hashes.forget(filePath);
    throw new NapError('CHANGED', `${file} changed while it was being sent; the transfer is cut.`);
  }

  // LIST request: the shared names matching a keyword (the DHT mode's keyword search).
  private async onList(socket: net.Socket, request: ListRequest): Promise<void> {
    const files = (await this.options.catalog.list(request.keyword)).slice(0, MAX_LIST_NAMES);
    socket.end(encodeLine({ type: 'LIST_OK', files }));
  }

  private refuse(socket: net.Socket, remote: string, refusal: DownloadRejected): void {
    this.log(`${remote}: rejected (${refusal.reason}) ${refusal.message ?? ''}`);
    socket.end(encodeLine(refusal));
  }
}
