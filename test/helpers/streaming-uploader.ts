/**
 * A hand-written uploader that answers a streamed INFO (docs/protocol.md, "Streamed INFO") under
 * the test's control: INFO_HEAD at once, then each prefix hash only when the test releases it,
 * INFO_END when the test ends the stream. Its hashes describe `hashed`; DOWNLOAD serves `served`
 * (the same bytes for an honest uploader, other ones for a liar). An INFO without `prefixes` gets
 * INFO_OK with the piece hashes of `hashed`. Real sockets on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import type net from 'node:net';
import { serveRange, startRequestServer } from './request-server.ts';

export interface StreamingUploader {
  port: number;
  /** Every request line received, parsed, in order. */
  requests: { type: string; prefixes?: boolean; offset?: number; length?: number }[];
  /** The prefix hashes of `hashed` (hex). */
  prefixes: string[];
  /** Sends the prefix hashes up to `count` (not yet sent) on every open INFO stream. */
  release(count: number): void;
  /** Sends INFO_END with `sha256` (default: the right one, the last prefix hash) and closes. */
  end(sha256?: string): void;
  /** Closes the INFO streams without INFO_END (a broken uploader). */
  cut(): void;
  /** Ends the INFO streams with DOWNLOAD_REJECTED CHANGED (the file changed while hashed). */
  changed(): void;
  /** Resolves once an INFO stream is open (its INFO_HEAD sent). */
  streaming: Promise<void>;
  /** INFO streams whose connection is still open (the downloader has not closed it). */
  readonly openStreams: number;
  close(): void;
}

export async function startStreamingUploader(
  hashed: Buffer,
  served: Buffer,
  pieceSize: number,
): Promise<StreamingUploader> {
  const prefixes: string[] = [];
  const running = createHash('sha256');
  for (let at = 0; at < hashed.length; at += pieceSize) {
    running.update(hashed.subarray(at, at + pieceSize));
    prefixes.push(running.copy().digest('hex'));
  }
  const streams: { socket: net.Socket; sent: number }[] = [];
  let released = 0;
  let openStreams = 0;
  let opened!: () => void;
  const streaming = new Promise<void>((resolve) => (opened = resolve));
  const flush = () => {
    for (const stream of streams) {
      if (stream.sent >= released) continue;
      const hashes = prefixes.slice(stream.sent, released);
      stream.socket.write(`${JSON.stringify({ type: 'PREFIXES', first: stream.sent, hashes })}\n`);
      stream.sent = released;
    }
  };
  const server = await startRequestServer((socket, request: StreamingUploader['requests'][number]) => {
    if (request.type === 'INFO' && !request.prefixes) {
      socket.end(infoOkLine(hashed, pieceSize));
      return;
    }
    if (request.type === 'INFO') {
      socket.write(`${JSON.stringify({ type: 'INFO_HEAD', size: hashed.length, pieceSize })}\n`);
      streams.push({ socket, sent: 0 });
      openStreams++;
      socket.once('close', () => openStreams--);
      flush();
      opened();
      return;
    }
    serveRange(socket, served, request);
  });
  return {
    port: server.port,
    requests: server.requests,
    prefixes,
    streaming,
    get openStreams() {
      return openStreams;
    },
    release: (count) => {
      released = Math.max(released, Math.min(count, prefixes.length));
      flush();
    },
    end: (sha256) => {
      released = prefixes.length;
      flush();
      const whole = sha256 ?? prefixes[prefixes.length - 1] ?? createHash('sha256').digest('hex');
      for (const { socket } of streams.splice(0))
        socket.end(`${JSON.stringify({ type: 'INFO_END', sha256: whole })}\n`);
    },
    cut: () => {
      for (const { socket } of streams.splice(0)) socket.destroy();
    },
    changed: () => {
      for (const { socket } of streams.splice(0))
        socket.end(`${JSON.stringify({ type: 'DOWNLOAD_REJECTED', reason: 'CHANGED' })}\n`);
    },
    close: server.close,
  };
}

/** The INFO_OK line (piece hashes, no version) that describes `bytes` in pieces of `pieceSize`. */
export function infoOkLine(bytes: Buffer, pieceSize: number): string {
  const pieces: string[] = [];
  for (let at = 0; at < bytes.length; at += pieceSize)
    pieces.push(
      createHash('sha256')
        .update(bytes.subarray(at, at + pieceSize))
        .digest('hex'),
    );
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return `${JSON.stringify({ type: 'INFO_OK', size: bytes.length, sha256, pieceSize, pieces })}\n`;
}
