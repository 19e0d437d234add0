/**
 * What the hand-written file servers of the tests (hostile-uploader.ts, streaming-uploader.ts,
 * lying-peer.ts) have in common: they speak the transfer protocol directly, over real sockets on
 * 127.0.0.1, so that they can do what napshare's own file server never would.
 */
import net from 'node:net';
import { LineSplitter } from '../../shared/line-splitter.ts';

export interface RequestServer<R> {
  port: number;
  /** Every request line received, parsed, in order. */
  requests: R[];
  /** Stops listening and destroys the open connections (a server that never answers holds them). */
  close: () => void;
}

/**
 * A TCP server on 127.0.0.1, a free port, that parses the first request line of each chunk a
 * connection sends (a downloader sends one request per connection), records it and hands it to
 * `onRequest` with its socket.
 */
export async function startRequestServer<R>(
  onRequest: (socket: net.Socket, request: R) => void,
): Promise<RequestServer<R>> {
  const requests: R[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const splitter = new LineSplitter(1 << 16);
    socket.on('data', (chunk: Buffer) => {
      const line = splitter.push(chunk)[0];
      if (line === undefined) return;
      const request = JSON.parse(line) as R;
      requests.push(request);
      onRequest(socket, request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/**
 * Answers a DOWNLOAD with `data`, whatever file it names: DOWNLOAD_OK with the size of the range
 * asked (from `offset`, 0 if absent, for `length`, to the end if absent), those bytes, the end.
 */
export function serveRange(
  socket: net.Socket,
  data: Buffer,
  request: { offset?: number; length?: number },
): void {
  const offset = request.offset ?? 0;
  const length = request.length ?? data.length - offset;
  socket.write(`${JSON.stringify({ type: 'DOWNLOAD_OK', size: length })}\n`);
  socket.end(data.subarray(offset, offset + length));
}
