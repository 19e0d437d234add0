/**
 * Single-source download (seed 003, 5f and 5h): asks one peer for a file and writes it into the
 * folder as `<name>.part`, renamed to `<name>` only when every byte arrived. A `.part` left by an
 * interrupted download is continued from its size with an offset request.
 */
import fs from 'node:fs/promises';
import type net from 'node:net';
import path from 'node:path';
import { describeError, NapError } from '../shared/errors.ts';
import { encodeLine } from '../shared/json-line.ts';
import { type Log, silentLog } from '../shared/log.ts';
import { decodeTransferReply, MAX_TRANSFER_REPLY_BYTES } from '../shared/transfer-protocol.ts';
import { connectTcp } from './connect.ts';
import { PartWriter } from './part-writer.ts';
import { PART_SUFFIX } from './shared-folder.ts';
import { SocketLines } from './socket-lines.ts';

/** How long a peer may take to answer a request before we give up on it. */
const REPLY_TIMEOUT_MS = 30_000;

export interface DownloadJob {
  host: string;
  port: number;
  file: string;
  /** Absolute folder the file is saved into. */
  folder: string;
  log?: Log;
  onProgress?: (received: number, total: number) => void;
  /**
   * Answers an AUTH_CHALLENGE from a password-protected file server (LAN mode): returns the
   * proof (hex) for `file` and the server's `nonce`. Without it a challenge is a REJECTED error.
   */
  answerChallenge?: (file: string, nonce: string) => string;
}

export interface DownloadResult {
  path: string;
  size: number;
  /** Bytes moved over the network (less than `size` when a `.part` was resumed). */
  transferred: number;
}

export async function downloadFile(job: DownloadJob): Promise<DownloadResult> {
  const log = job.log ?? silentLog;
  const finalPath = path.join(job.folder, job.file);
  const partPath = finalPath + PART_SUFFIX;
  if (await exists(finalPath)) {
    throw new NapError(
      'EXISTS',
      `${job.file} is already in the folder; remove it first to download it again.`,
    );
  }
  const offset = (await fs.stat(partPath).catch(() => null))?.size ?? 0;
  if (offset > 0) log(`resuming ${job.file} from byte ${offset}`);

  const peer = `peer ${job.host}:${job.port}`;
  const socket = await connectTcp(job.host, job.port, peer);
  try {
    socket.write(
      encodeLine(
        offset > 0 ? { type: 'DOWNLOAD', file: job.file, offset } : { type: 'DOWNLOAD', file: job.file },
      ),
    );
    const lines = new SocketLines(socket, MAX_TRANSFER_REPLY_BYTES, peer);
    let reply = decodeTransferReply(await lines.nextLine(REPLY_TIMEOUT_MS));
    if (reply.type === 'AUTH_CHALLENGE') {
      if (!job.answerChallenge) throw new NapError('REJECTED', `${capitalize(peer)} asks a password for ${job.file}.`);
      socket.write(encodeLine({ type: 'AUTH', proof: job.answerChallenge(job.file, reply.nonce) }));
      reply = decodeTransferReply(await lines.nextLine(REPLY_TIMEOUT_MS));
    }
    if (reply.type === 'DOWNLOAD_REJECTED') {
      throw new NapError(
        'REJECTED',
        `${capitalize(peer)} refused ${job.file}: ${reply.reason}${reply.message ? ` (${reply.message})` : ''}.`,
      );
    }
    if (reply.type !== 'DOWNLOAD_OK')
      throw new NapError('PROTOCOL', `${capitalize(peer)} answered ${reply.type} to DOWNLOAD.`);
    const total = offset + reply.size;
    const handle = await fs.open(partPath, offset > 0 ? 'r+' : 'w');
    try {
      const writer = new PartWriter(handle, offset);
      try {
        await receiveBody(socket, lines.takeRest(), reply.size, writer, (n) =>
          job.onProgress?.(offset + n, total),
        );
      } finally {
        // Whatever arrived stays in the .part for the next attempt to resume from.
        await writer
          .flush()
          .catch((error) => log(`could not save the partial data: ${describeError(error)}`));
      }
    } finally {
      await handle.close();
    }
    await fs.rename(partPath, finalPath);
    return { path: finalPath, size: total, transferred: reply.size };
  } finally {
    socket.destroy();
  }
}

/** Moves exactly `expected` body bytes from the socket into `writer`, pausing for the disk. */
export function receiveBody(
  socket: net.Socket,
  head: Buffer,
  expected: number,
  writer: PartWriter,
  onProgress?: (received: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      const take = Math.min(chunk.length, expected - received);
      if (take > 0) {
        received += take;
        try {
          if (!writer.push(take === chunk.length ? chunk : chunk.subarray(0, take))) {
            socket.pause();
            void writer.drained().then(() => done || socket.resume());
          }
        } catch (error) {
          return finish(error as Error);
        }
        onProgress?.(received);
      }
      if (received === expected) finish();
    };
    const onEnd = () =>
      finish(
        new NapError(
          'TRUNCATED',
          `The connection ended after ${received} of ${expected} bytes; download again to resume.`,
        ),
      );
    const onError = (error: Error) =>
      finish(
        new NapError(
          'TRUNCATED',
          `The connection broke after ${received} of ${expected} bytes (${error.message}); download again to resume.`,
        ),
      );
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
    onData(head);
    if (!done) socket.resume();
  });
}

async function exists(filePath: string): Promise<boolean> {
  return (await fs.lstat(filePath).catch(() => null)) !== null;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
