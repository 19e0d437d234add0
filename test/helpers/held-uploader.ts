/**
 * A hand-written uploader whose answers the test holds back: INFO (piece hashes of `bytes`) only
 * once the test calls `answerInfo`, and, with `holdRanges`, each DOWNLOAD only once it calls
 * `releaseRanges`. So a test can say exactly where a download stands when a source answers: a
 * source slow or silent at INFO, a source still sending while another joins. Real sockets on
 * 127.0.0.1.
 */
import type net from 'node:net';
import { type RequestServer, serveRange, startRequestServer } from './request-server.ts';
import { infoOkLine } from './streaming-uploader.ts';

type Request = { type: string; offset?: number; length?: number };

export interface HeldUploader {
  port: number;
  requests: RequestServer<Request>['requests'];
  /** Resolves once an INFO was received (and is held). */
  infoAsked: Promise<void>;
  /** Resolves once a held INFO's connection was closed by the downloader. */
  infoClosed: Promise<void>;
  /** Answers the held INFO requests, and every later one at once. */
  answerInfo(): void;
  /** Resolves once a DOWNLOAD was received. */
  rangeAsked: Promise<void>;
  /** Serves the held DOWNLOAD requests, and every later one at once. */
  releaseRanges(): void;
  close(): void;
}

export async function startHeldUploader(
  bytes: Buffer,
  pieceSize: number,
  options: { holdRanges?: boolean } = {},
): Promise<HeldUploader> {
  const info = infoOkLine(bytes, pieceSize);
  const heldInfo: net.Socket[] = [];
  const heldRanges: { socket: net.Socket; request: Request }[] = [];
  let infoAnswered = false;
  let rangesReleased = options.holdRanges !== true;
  let asked!: () => void;
  let closed!: () => void;
  let ranged!: () => void;
  const infoAsked = new Promise<void>((resolve) => (asked = resolve));
  const infoClosed = new Promise<void>((resolve) => (closed = resolve));
  const rangeAsked = new Promise<void>((resolve) => (ranged = resolve));
  const server = await startRequestServer<Request>((socket, request) => {
    if (request.type === 'INFO') {
      asked();
      if (infoAnswered) socket.end(info);
      else {
        heldInfo.push(socket);
        socket.once('close', closed);
      }
      return;
    }
    ranged();
    if (rangesReleased) serveRange(socket, bytes, request);
    else heldRanges.push({ socket, request });
  });
  return {
    port: server.port,
    requests: server.requests,
    infoAsked,
    infoClosed,
    answerInfo: () => {
      infoAnswered = true;
      for (const socket of heldInfo.splice(0)) {
        socket.off('close', closed);
        socket.end(info);
      }
    },
    rangeAsked,
    releaseRanges: () => {
      rangesReleased = true;
      for (const { socket, request } of heldRanges.splice(0)) serveRange(socket, bytes, request);
    },
    close: server.close,
  };
}
