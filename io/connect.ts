/** Opening a TCP connection with a deadline and an error a person can act on. */
import net from 'node:net';
import { NapError } from '../shared/errors.ts';

/** How long a connection attempt may take: loopback and LANs answer in milliseconds. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectOptions {
  timeoutMs?: number;
  /** Read into caller-provided buffers (net.connect's `onread`): no copy, reads of any size. */
  onread?: net.OnReadOpts;
  /** Gives up the attempt (a cancelled download): rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** `options` may be a bare timeout in milliseconds. */
export function connectTcp(
  host: string,
  port: number,
  what: string,
  options: ConnectOptions | number = {},
): Promise<net.Socket> {
  if (typeof options === 'number') options = { timeoutMs: options };
  const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
  const { signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const socket = options.onread
      ? net.connect({ host, port, onread: options.onread })
      : net.connect({ host, port });
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(
        new NapError(
          'TIMEOUT',
          `Could not reach ${what} at ${host}:${port}: no answer within ${timeoutMs / 1000} s.`,
        ),
      );
    }, timeoutMs);
    const onAbort = () => {
      clearTimeout(timer);
      socket.destroy();
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const reason =
        error.code === 'ECONNREFUSED' ? 'connection refused (is it running?)' : (error.code ?? error.message);
      reject(
        new NapError('CONNECT_FAILED', `Could not reach ${what} at ${host}:${port}: ${reason}.`, {
          cause: error,
        }),
      );
    });
  });
}
