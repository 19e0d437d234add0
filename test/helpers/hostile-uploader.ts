/**
 * A hand-written file server that fails INFO on purpose, then serves whatever bytes it is given
 * to DOWNLOAD (wrong ones, in the tests): the ways a lying or broken uploader could try to get a
 * downloader to skip verification. Speaks the transfer protocol directly, on 127.0.0.1, a free port.
 *
 * - `close`: closes the INFO connection without a word;
 * - `malformed`: answers an INFO_OK whose `size` is a string;
 * - `refuse`: refuses INFO as a DOWNLOAD-only peer would (DOWNLOAD_REJECTED BAD_REQUEST);
 * - `silent`: reads the INFO request and never answers (the connection stays open).
 */
import net from 'node:net';
import { LineSplitter } from '../../shared/line-splitter.ts';

export type InfoFailure = 'close' | 'malformed' | 'refuse' | 'silent';

export interface HostileUploader {
  port: number;
  /** Every request line received, parsed, in order. */
  requests: { type: string; file?: string; offset?: number; length?: number }[];
  close: () => void;
}

export async function startHostileUploader(info: InfoFailure, data: Buffer): Promise<HostileUploader> {
  const requests: HostileUploader['requests'] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const splitter = new LineSplitter(1 << 16);
    socket.on('data', (chunk: Buffer) => {
      const line = splitter.push(chunk)[0];
      if (line === undefined) return;
      const request = JSON.parse(line) as HostileUploader['requests'][number];
      requests.push(request);
      if (request.type === 'INFO') return failInfo(socket, info, data.length);
      const offset = request.offset ?? 0;
      const length = request.length ?? data.length - offset;
      socket.write(`${JSON.stringify({ type: 'DOWNLOAD_OK', size: length })}\n`);
      socket.end(data.subarray(offset, offset + length));
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

function failInfo(socket: net.Socket, how: InfoFailure, size: number): void {
  switch (how) {
    case 'close':
      socket.destroy();
      return;
    case 'malformed': {
      // Everything right but the type of `size`: one field is enough to make it unusable.
      const pieces = Array.from({ length: Math.ceil(size / 4194304) }, () => '0'.repeat(64));
      socket.end(
        `${JSON.stringify({ type: 'INFO_OK', size: String(size), sha256: '0'.repeat(64), pieceSize: 4194304, pieces })}\n`,
      );
      return;
    }
    case 'refuse':
      socket.end('{"type":"DOWNLOAD_REJECTED","reason":"BAD_REQUEST"}\n');
      return;
    case 'silent':
      return;
  }
}
