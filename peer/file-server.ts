/**
 * A peer's file server (seed 003, section 5; docs/course.md): answers DOWNLOAD, INFO and LIST on the peer's
 * announced address, one request per connection. Bodies are streamed with backpressure, never read
 * whole; uploads above a limit are refused with BUSY so each one keeps a fair share. Connections
 * are capped per server and per IP (io/connection-guard.ts), a client has REQUEST_TIMEOUT_MS to
 * send its request, and a reader that takes nothing for the stall timeout loses its upload slot.
 * A client may half-close after its request (`printf ... | nc -N`): it still gets its answer.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import { ConnectionGuard, type DismissCause, type GuardedConnection } from '../io/connection-guard.ts';
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
import type { RateLimiter } from './rate-limiter.ts';
import { DEFAULT_STALL_TIMEOUT_MS, sendFileRange } from './send-file.ts';
import type { Catalog } from './shared-folder.ts';

/** Uploads at once by default: enough for several downloaders, few enough that each is fast. */
export const DEFAULT_MAX_UPLOADS = 8;
/**
 * Open connections at most (uploads, requests being read, replies being read); past it a newcomer
 * gets BUSY. Each costs a socket and at most a 64 KiB request line (16 MiB for all).
 */
export const FILE_SERVER_MAX_CONNECTIONS = 256;
/**
 * Connections from one IP address: a downloader opens one per file it fetches from us (plus its
 * INFO), so 32 serve several downloads from one machine or NAT and leave 224 to the others.
 */
export const FILE_SERVER_MAX_CONNECTIONS_PER_IP = 32;
/**
 * A client has this long to send its request line, and a LAN client as long again to answer the
 * password challenge: downloaders send at once, and idle sockets must not hold the slots.
 */
export const REQUEST_TIMEOUT_MS = 10_000;
/** A reader that takes nothing this long while bytes wait for it loses its upload (TIMEOUT). */
export const STALL_TIMEOUT_MS = DEFAULT_STALL_TIMEOUT_MS;

/** Upload slots one IP address may hold by default: half of them, so others are always served. */
export function defaultUploadsPerIp(maxUploads: number): number {
  return Math.max(1, Math.ceil(maxUploads / 2));
}

export interface FileServerLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Upload slots one IP address may hold at once; default half of maxUploads. */
  maxUploadsPerIp: number;
  requestTimeoutMs: number;
  /** Also how long a client has to read the end of a reply and close once we closed our side. */
  stallTimeoutMs: number;
}
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
  /** Connection caps and timeouts; each defaults to the constants above. */
  limits?: Partial<FileServerLimits>;
  log?: Log;
}

/** The DOWNLOAD_REJECTED reason each refusal of the connection guard carries. */
const REFUSAL_REASONS = {
  SERVER_BUSY: 'BUSY',
  TOO_MANY_CONNECTIONS: 'BUSY',
  IDLE_TIMEOUT: 'TIMEOUT',
  LINE_TIMEOUT: 'TIMEOUT',
  INPUT_BUDGET: 'BUSY',
} as const satisfies Record<DismissCause, string>;

export class FileServer {
  private readonly sockets = new Set<net.Socket>();
  private readonly hashes = new HashCache();
  private uploads = 0;
  // Upload slots held per IP address (entries removed at 0).
  private readonly uploadsPerIp = new Map<string, number>();
  private closing: Promise<void> | undefined;
  private readonly log: Log;
  private readonly maxUploads: number;
  readonly limits: Readonly<FileServerLimits>;
  private readonly guard: ConnectionGuard;

  private constructor(
    private readonly server: net.Server,
    private readonly options: FileServerOptions,
  ) {
    this.log = options.log ?? silentLog;
    this.maxUploads = options.maxUploads ?? DEFAULT_MAX_UPLOADS;
    this.limits = {
      maxConnections: FILE_SERVER_MAX_CONNECTIONS,
      maxConnectionsPerIp: FILE_SERVER_MAX_CONNECTIONS_PER_IP,
      maxUploadsPerIp: defaultUploadsPerIp(this.maxUploads),
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      stallTimeoutMs: STALL_TIMEOUT_MS,
      ...options.limits,
    };
    this.guard = new ConnectionGuard({
      name: 'file server',
      limits: {
        maxConnections: this.limits.maxConnections,
        maxConnectionsPerIp: this.limits.maxConnectionsPerIp,
        idleTimeoutMs: this.limits.requestTimeoutMs,
      },
      format: (cause, message) => encodeLine(rejection(REFUSAL_REASONS[cause], message)),
      log: this.log,
    });
  }

  /** Listens on host:port (0: a free port). Rejects with ADDRESS_IN_USE when it is taken. */
  static async start(options: FileServerOptions): Promise<FileServer> {
    // Half-open: a client that ends its side after the request (`nc -N`) still gets the answer.
    const server = net.createServer({ allowHalfOpen: true });
    const fileServer = new FileServer(server, options);
    fileServer.guard.attach(server, (connection) => void fileServer.onConnection(connection));
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
      this.guard.closeAll();
    });
    return this.closing;
  }

  // (seed 003, 5a) receives the requests of other peers, each on its own connection.
  private async onConnection(connection: GuardedConnection): Promise<void> {
    const socket = connection.socket;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    const remote = connection.name;
    const lines = new SocketLines(socket, MAX_TRANSFER_REQUEST_BYTES, `client ${remote}`);
    // One deadline from the connection for the request and any password proof: a trickle of
    // bytes buys no time, and an unauthenticated client is gone within requestTimeoutMs.
    const deadline = performance.now() + this.limits.requestTimeoutMs;
    const untilDeadline = (atMostMs: number) => Math.max(1, Math.min(atMostMs, deadline - performance.now()));
    const exchange: Exchange = {
      remoteAddress: connection.ip,
      send: (message) => socket.write(encodeLine(message)),
      nextLine: (timeoutMs) => lines.nextLine(untilDeadline(timeoutMs)),
    };
    try {
      const line = await lines.nextLine(untilDeadline(this.limits.requestTimeoutMs));
      let request: TransferRequest;
      try {
        request = decodeTransferRequest(line);
      } catch (error) {
        const reason = isNapError(error, 'UNSAFE_NAME') ? 'UNSAFE_NAME' : 'BAD_REQUEST';
        return this.refuse(connection, rejection(reason, describeError(error)));
      }
      const refusal = this.options.guard ? await this.options.guard(request, exchange) : null;
      if (refusal) return this.refuse(connection, refusal);
      switch (request.type) {
        case 'DOWNLOAD':
          return await this.onDownload(connection, request);
        case 'INFO':
          return await this.onInfo(connection, request);
        case 'LIST':
          return await this.onList(connection, request);
      }
    } catch (error) {
      this.log(`${remote}: ${describeError(error)}`);
      // No request (or no answer to the challenge) in time: told why, then closed.
      if (isNapError(error, 'TIMEOUT') && !connection.done) connection.dismiss('IDLE_TIMEOUT');
      else socket.destroy();
    }
  }

  // DOWNLOAD request (seed 003, 5g): send the file if we have it, else reject.
  private async onDownload(connection: GuardedConnection, request: DownloadRequest): Promise<void> {
    const { socket, ip } = connection;
    const remote = connection.name;
    if (this.uploads >= this.maxUploads) {
      return this.refuse(
        connection,
        rejection('BUSY', `Already ${this.uploads} uploads in progress; try again later.`),
      );
    }
    const fromIp = this.uploadsPerIp.get(ip) ?? 0;
    if (fromIp >= this.limits.maxUploadsPerIp) {
      return this.refuse(
        connection,
        rejection('BUSY', `Your address ${ip} already has ${fromIp} uploads from here; try again later.`),
      );
    }
    this.uploads++;
    this.uploadsPerIp.set(ip, fromIp + 1);
    try {
      const shared = await this.options.catalog.find(request.file).catch((error: unknown) => error as Error);
      if (shared instanceof Error) {
        const reason = isNapError(shared, 'NOT_FOUND') ? 'NOT_FOUND' : 'IO_ERROR';
        return this.refuse(connection, rejection(reason, describeError(shared)));
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
            connection,
            rejection('CHANGED', `${request.file} changed since its INFO; ask INFO again.`),
          );
        }
        const offset = request.offset ?? 0;
        if (offset > size || (request.length !== undefined && request.length > size - offset)) {
          return this.refuse(
            connection,
            rejection('BAD_RANGE', `The range asked is outside the file's ${size} bytes.`),
          );
        }
        const length = request.length ?? size - offset;
        this.log(`${remote}: sending ${request.file} bytes ${offset}-${offset + length} of ${size}`);
        socket.write(encodeLine({ type: 'DOWNLOAD_OK', size: length }));
        await sendFileRange(socket, handle, offset, length, {
          limiter: this.options.limiter,
          stallTimeoutMs: this.limits.stallTimeoutMs,
          check: () => this.stillVersion(handle, version, shared.path, request.file),
        });
        connection.finish(undefined, this.limits.stallTimeoutMs);
        this.log(`${remote}: sent ${request.file}`);
      } finally {
        await handle.close();
      }
    } finally {
      this.uploads--;
      const left = (this.uploadsPerIp.get(ip) ?? 1) - 1;
      if (left === 0) this.uploadsPerIp.delete(ip);
      else this.uploadsPerIp.set(ip, left);
    }
  }

  // INFO request: size, SHA-256 and piece hashes (computed once, then cached).
  private async onInfo(connection: GuardedConnection, request: InfoRequest): Promise<void> {
    const shared = await this.options.catalog.find(request.file).catch((error: unknown) => error as Error);
    if (shared instanceof Error)
      return this.refuse(connection, rejection('NOT_FOUND', describeError(shared)));
    const info = await this.hashes.get(shared).catch((error: unknown) => error as Error);
    // Written to while it was hashed: the downloader asks again (its INFO is retried).
    if (isNapError(info, 'CHANGED'))
      return this.refuse(
        connection,
        rejection('CHANGED', `${request.file} changed while it was being hashed; ask INFO again.`),
      );
    if (info instanceof Error) throw info;
    connection.finish(encodeLine({ type: 'INFO_OK', ...info }), this.limits.stallTimeoutMs);
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
  private async onList(connection: GuardedConnection, request: ListRequest): Promise<void> {
    const files = (await this.options.catalog.list(request.keyword)).slice(0, MAX_LIST_NAMES);
    connection.finish(encodeLine({ type: 'LIST_OK', files }), this.limits.stallTimeoutMs);
  }

  private refuse(connection: GuardedConnection, refusal: DownloadRejected): void {
    this.log(`${connection.name}: rejected (${refusal.reason}) ${refusal.message ?? ''}`);
    connection.dismissWith(encodeLine(refusal));
  }
}
