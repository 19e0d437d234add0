/**
 * Streams a byte range of an open file to a socket: large reads (4 MiB, see docs/performance.md)
 * with a few writes in flight so the disk read of one chunk overlaps the send of the previous,
 * never more than MAX_IN_FLIGHT chunks in memory whatever the file's size (multi-GB files).
 * A reader that takes nothing for the stall timeout loses the transfer (TIMEOUT), so a client
 * that asks and never reads cannot hold an upload slot.
 */
import type { FileHandle } from 'node:fs/promises';
import type net from 'node:net';
import { NapError } from '../shared/errors.ts';
import { recycle, takeBuffer } from './buffer-recycler.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** Read size: the default 64 KiB costs ~4x the throughput (docs/performance.md). */
export const SEND_CHUNK_BYTES = 4 * 1024 * 1024;
/**
 * Chunks handed to the socket and not yet flushed: one being sent while the next is read; 2 x 4 MiB
 * bounds an upload's memory (a third chunk bought no speed, docs/performance.md).
 */
export const MAX_IN_FLIGHT = 2;
/**
 * A chunk goes to the socket in slices of this size, at most MAX_SLICES_QUEUED at a time, so each
 * write completes as soon as the reader has taken a slice: progress is seen every 256 KiB, not
 * every 4 MiB (a 4 MiB write to a reader at 100 KB/s would take 40 s). Its cost measured within
 * the noise (docs/performance.md, "Upload path").
 */
export const SEND_SLICE_BYTES = 256 * 1024;
const MAX_SLICES_QUEUED = 2;
/** How long a reader may take no byte at all while bytes wait for it before the upload ends. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

export interface SendOptions {
  limiter?: RateLimiter | undefined;
  chunkBytes?: number;
  /** Ends the transfer (TIMEOUT) when the reader takes nothing this long; default 30 s. */
  stallTimeoutMs?: number;
  /**
   * Runs after each chunk is read and before it is sent; throws to end the transfer (the file
   * changed: a chunk read after the change must never follow chunks read before it).
   */
  check?: () => Promise<void>;
}

interface Chunk {
  buffer: Buffer;
  length: number;
  /** Bytes handed to the socket, and bytes the socket has flushed. */
  queued: number;
  flushed: number;
}

/** Sending the file asked by DOWNLOAD (seed 003, 5g): `length` bytes of `file` from `start`. */
export async function sendFileRange(
  socket: net.Socket,
  file: FileHandle,
  start: number,
  length: number,
  options: SendOptions = {},
): Promise<void> {
  const chunkBytes = options.chunkBytes ?? SEND_CHUNK_BYTES;
  const stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const pool: Buffer[] = [];
  // Chunks read and not wholly flushed, oldest first: at most MAX_IN_FLIGHT.
  const chunks: Chunk[] = [];
  let slicesQueued = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const signal = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const fail = (error: Error) => {
    failure ??= error;
    signal();
  };
  // Runs only while bytes wait for the reader; each flushed slice starts it over.
  let stall: NodeJS.Timeout | undefined;
  const watch = () => {
    if (chunks.length === 0) {
      clearTimeout(stall);
      stall = undefined;
    } else if (stall) stall.refresh();
    else
      stall = setTimeout(
        () => fail(new NapError('TIMEOUT', `The downloader took no data for ${stallMs / 1000} s.`)),
        stallMs,
      );
  };
  const pump = () => {
    for (const chunk of chunks) {
      while (chunk.queued < chunk.length && slicesQueued < MAX_SLICES_QUEUED && failure === undefined) {
        const slice = chunk.buffer.subarray(
          chunk.queued,
          Math.min(chunk.length, chunk.queued + SEND_SLICE_BYTES),
        );
        chunk.queued += slice.length;
        slicesQueued++;
        socket.write(slice, (error) => {
          slicesQueued--;
          chunk.flushed += slice.length;
          if (chunk.flushed === chunk.length) {
            chunks.splice(chunks.indexOf(chunk), 1);
            pool.push(chunk.buffer);
          }
          if (error) fail(error);
          watch();
          pump();
          signal();
        });
      }
    }
  };
  const onClose = () => fail(new NapError('CONNECTION_CLOSED', 'The downloader closed the connection.'));
  socket.once('close', onClose);
  try {
    let position = start;
    const end = start + length;
    while (position < end) {
      while (chunks.length >= MAX_IN_FLIGHT && failure === undefined)
        await new Promise<void>((resolve) => (wake = resolve));
      if (failure) throw failure;
      const buffer = pool.pop() ?? takeBuffer(chunkBytes);
      const want = Math.min(chunkBytes, end - position);
      const { bytesRead } = await file.read(buffer, 0, want, position);
      if (bytesRead === 0) throw new NapError('CHANGED', 'The file became shorter while it was being sent.');
      await options.check?.();
      position += bytesRead;
      await options.limiter?.take(bytesRead);
      if (failure) throw failure;
      chunks.push({ buffer, length: bytesRead, queued: 0, flushed: 0 });
      watch();
      pump();
    }
    while (chunks.length > 0 && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
    if (failure) throw failure;
  } finally {
    clearTimeout(stall);
    socket.off('close', onClose);
    // Chunks still queued in a broken socket are not returned: the socket may yet read them.
    if (chunks.length === 0) recycle(pool);
  }
}
