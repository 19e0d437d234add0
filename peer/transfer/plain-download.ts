/**
 * Downloading from a peer that speaks only DOWNLOAD (another implementation of the course): no
 * piece hashes to check against, so the file is streamed into `<name>.part` from where it stops,
 * and given its name (never replacing a file) once all the bytes announced have arrived. Its
 * SHA-256 is computed on the way, for the record, not verified. Used only for sources the index
 * lists without the INFO capability (Source.plain), never as a fallback for one that has it.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import type net from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { connectTcp } from '../../io/connect.ts';
import { SocketLines } from '../../io/socket-lines.ts';
import { NapError } from '../../shared/errors.ts';
import { encodeLine } from '../../shared/json-line.ts';
import {
  decodeTransferReply,
  MAX_TRANSFER_REPLY_BYTES,
  rejectionError,
} from '../../shared/transfer-protocol.ts';
import { claimFinalName } from './final-name.ts';
import { IDLE_TIMEOUT_MS, type Source } from './range-receiver.ts';

/** Write-stream buffer: large writes, as for verified downloads (docs/performance.md). */
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

export interface PlainDownload {
  source: Source;
  file: string;
  finalPath: string;
  partPath: string;
  answerChallenge?: ((file: string, nonce: string) => string) | undefined;
  onProgress?: (done: number, total: number) => void;
  /** Cuts the connection (a cancelled download); what arrived stays in the `.part`. */
  signal?: AbortSignal | undefined;
}

export async function plainDownload(
  job: PlainDownload,
): Promise<{ size: number; sha256: string; transferred: number }> {
  const offset = (await fs.stat(job.partPath).catch(() => null))?.size ?? 0;
  const socket = await connectTcp(job.source.host, job.source.port, 'the peer', { signal: job.signal });
  // Cut, the body ends like a closed connection: the bytes received are flushed into the .part.
  const cut = () => socket.destroy();
  job.signal?.addEventListener('abort', cut, { once: true });
  try {
    // DOWNLOAD request to the peer (seed 003, 5f), from the end of what the .part holds.
    socket.write(
      encodeLine(
        offset > 0 ? { type: 'DOWNLOAD', file: job.file, offset } : { type: 'DOWNLOAD', file: job.file },
      ),
    );
    const peer = `peer ${job.source.host}:${job.source.port}`;
    const lines = new SocketLines(socket, MAX_TRANSFER_REPLY_BYTES, `The ${peer}`);
    let reply = decodeTransferReply(await lines.nextLine(IDLE_TIMEOUT_MS));
    if (reply.type === 'AUTH_CHALLENGE') {
      if (!job.answerChallenge)
        throw new NapError('REJECTED', `The ${peer} asks a password for ${job.file}.`);
      socket.write(encodeLine({ type: 'AUTH', proof: job.answerChallenge(job.file, reply.nonce) }));
      reply = decodeTransferReply(await lines.nextLine(IDLE_TIMEOUT_MS));
    }
    if (reply.type === 'DOWNLOAD_REJECTED') throw rejectionError(peer, job.file, reply);
    if (reply.type !== 'DOWNLOAD_OK')
      throw new NapError('PROTOCOL', `The ${peer} answered ${reply.type} to DOWNLOAD.`);
    const total = offset + reply.size;
    socket.setTimeout(IDLE_TIMEOUT_MS, () =>
      socket.destroy(new NapError('TIMEOUT', `The ${peer} sent nothing for ${IDLE_TIMEOUT_MS / 1000} s.`)),
    );
    const sink = createWriteStream(job.partPath, {
      flags: offset > 0 ? 'r+' : 'w',
      start: offset,
      highWaterMark: WRITE_BUFFER_BYTES,
    });
    // The SHA-256 is taken as the bytes go by; only a resumed prefix is read back from disk.
    const hash = offset > 0 ? await hashPrefix(job.partPath, offset) : createHash('sha256');
    const received = { bytes: 0 };
    const onChunk = (chunk: Buffer) => {
      hash.update(chunk);
      received.bytes += chunk.length;
      job.onProgress?.(offset + received.bytes, total);
    };
    // Receiving the file (seed 003, 5h) into the .part in the peer's folder. The body ends early
    // without an error, so the write stream flushes every byte received into the .part (for the
    // next attempt to resume from) before the shortfall is reported.
    await pipeline(body(socket, lines.takeRest(), reply.size, onChunk), sink);
    if (received.bytes < reply.size) {
      throw new NapError(
        'TRUNCATED',
        `The connection ended after ${received.bytes} of ${reply.size} bytes; what arrived is kept in ${path.basename(job.partPath)}, DOWNLOAD again to resume.`,
      );
    }
    const handle = await fs.open(job.partPath, 'r+');
    try {
      await handle.truncate(total);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await claimFinalName(job.partPath, job.finalPath, { verified: false });
    return { size: total, sha256: hash.digest('hex'), transferred: reply.size };
  } finally {
    job.signal?.removeEventListener('abort', cut);
    socket.destroy();
  }
}

/** The `size` body bytes: those already read with the reply line, then the socket's until it ends. */
async function* body(
  socket: net.Socket,
  head: Buffer,
  size: number,
  onChunk: (chunk: Buffer) => void,
): AsyncGenerator<Buffer> {
  let got = 0;
  const first = head.subarray(0, size);
  if (first.length > 0) {
    got += first.length;
    onChunk(first);
    yield first;
  }
  if (got >= size) return;
  try {
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      const part = chunk.subarray(0, size - got);
      got += part.length;
      onChunk(part);
      yield part;
      if (got >= size) break;
    }
  } catch {
    // A reset or a timeout ends the body like a close: what arrived is kept, the caller sees
    // the shortfall.
  }
}

/** A running SHA-256 of the first `length` bytes already in the file (a resumed download). */
async function hashPrefix(filePath: string, length: number): Promise<Hash> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath, {
    end: length - 1,
    highWaterMark: WRITE_BUFFER_BYTES,
  })) {
    hash.update(chunk as Buffer);
  }
  return hash;
}
