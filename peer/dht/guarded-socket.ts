/**
 * The DHT node's UDP socket, as bittorrent-dht sees it (its k-rpc-socket takes a `socket`
 * option): a real dgram socket whose datagrams reach the library only after decodeKrpc has
 * checked them, and then as the canonical bytes encodeKrpc writes, so the library decodes what
 * napshare wrote, never the sender's bytes. Malformed datagrams are dropped and counted. Anything
 * the library still throws while handling one datagram is caught here, for that datagram alone:
 * the node keeps its routing table, its store and its timers, and goes on answering.
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { decodeKrpc, encodeKrpc, type KrpcMessage } from './krpc-message.ts';

export interface GuardStats {
  /** Datagrams received. */
  received: number;
  /** Dropped before the library saw them: not KRPC, or a field of the wrong type or length. */
  malformed: number;
  /** Datagrams the library threw on, caught here. */
  failed: number;
}

export interface GuardedSocketOptions {
  /** Each dropped datagram, with why (NapError PROTOCOL). */
  onMalformed?: (error: unknown, bytes: number, from: dgram.RemoteInfo) => void;
  /** Each datagram the library threw on. */
  onFailure?: (error: unknown, from: dgram.RemoteInfo) => void;
  /** Each checked message, just before the library gets it. */
  beforeDelivery?: (message: KrpcMessage, from: dgram.RemoteInfo) => void;
}

type SendCallback = (error: Error | null, bytes?: number) => void;

export class GuardedSocket extends EventEmitter {
  readonly stats: GuardStats = { received: 0, malformed: 0, failed: 0 };

  constructor(
    private readonly options: GuardedSocketOptions = {},
    private readonly inner: dgram.Socket = dgram.createSocket('udp4'),
  ) {
    super();
    inner.on('message', (data, from) => this.onMessage(data, from));
    // The library listens for these; with no listener an 'error' would throw.
    inner.on('error', (error) => this.emit('error', error));
    inner.on('listening', () => this.emit('listening'));
    inner.on('close', () => this.emit('close'));
  }

  // The part of dgram.Socket that k-rpc-socket uses.

  bind(port?: number, address?: string, onListening?: () => void): this {
    this.inner.bind(port, address, onListening);
    return this;
  }

  address(): ReturnType<dgram.Socket['address']> {
    return this.inner.address();
  }

  /**
   * dgram throws synchronously on some arguments (a bad port, a closed socket); the library calls
   * send from timers too, where a throw would stop the daemon: it becomes the callback's error.
   */
  send(
    data: Buffer,
    offset: number,
    length: number,
    port: number,
    host: string,
    callback?: SendCallback,
  ): void {
    try {
      this.inner.send(data, offset, length, port, host, callback);
    } catch (error) {
      if (callback) process.nextTick(callback, error as Error);
    }
  }

  close(onClose?: () => void): void {
    this.inner.close(onClose);
  }

  private onMessage(data: Buffer, from: dgram.RemoteInfo): void {
    this.stats.received++;
    let message: KrpcMessage;
    let canonical: Buffer;
    try {
      message = decodeKrpc(data);
      canonical = encodeKrpc(message);
    } catch (error) {
      this.stats.malformed++;
      this.options.onMalformed?.(error, data.length, from);
      return;
    }
    try {
      this.options.beforeDelivery?.(message, from);
      // The library handles the datagram synchronously inside this call: a throw lands here.
      this.emit('message', canonical, from);
    } catch (error) {
      this.stats.failed++;
      this.options.onFailure?.(error, from);
    }
  }
}
