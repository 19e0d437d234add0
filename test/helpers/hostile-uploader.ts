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
import type net from 'node:net';
import { type RequestServer, serveRange, startRequestServer } from './request-server.ts';

export type InfoFailure = 'close' | 'malformed' | 'refuse' | 'silent';

export type HostileUploader = RequestServer<{
  type: string;
  file?: string;
  offset?: number;
  length?: number;
}>;

export function startHostileUploader(info: InfoFailure, data: Buffer): Promise<HostileUploader> {
  return startRequestServer((socket, request: HostileUploader['requests'][number]) => {
    if (request.type === 'INFO') return failInfo(socket, info, data.length);
    serveRange(socket, data, request);
  });
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
