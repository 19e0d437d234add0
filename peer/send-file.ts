/**
 * Streams a byte range of an open file to a socket: large reads (2 MiB, see docs/performance.md)
 * with a few writes in flight so the disk read of one chunk overlaps the send of the previous,
 * never more than MAX_IN_FLIGHT chunks in memory whatever the file's size (multi-GB files).
 */
import type { FileHandle } from 'node:fs/promises';
import type net from 'node:net';
import { NapError } from '../shared/errors.ts';
import { recycle, takeBuffer } from './buffer-recycler.ts';
import type { RateLimiter } from './rate-limiter.ts';

/**
 * Read size: the default 64 KiB costs ~4x the throughput (DEPENDENCIES.md), 1 MiB a quarter more
 * CPU; 2 MiB costs what 4 MiB did, in half the memory (docs/performance.md).
 */
export const SEND_CHUNK_BYTES = 2 * 1024 * 1024;
/**
 * Chunks handed to the socket and not yet flushed: one being sent while the next is read; 2 x 2 MiB
 * bounds an upload's memory (a third chunk bought no speed, docs/performance.md).
 */
export const MAX_IN_FLIGHT = 2;

export interface SendOptions {
  limiter?: RateLimiter | undefined;
  chunkBytes?: number;
  /**
   * Runs after each chunk is read and before it is sent; throws to end the transfer (the file
   * changed: a chunk read after the change must never follow chunks read before it).
   */
  check?: () => Promise<void>;
}

export async function sendFileRange(
  socket: net.Socket,
  file: FileHandle,
  start: number,
  length: number,
  options: SendOptions = {},
): Promise<void> {
  const chunkBytes = options.chunkBytes ?? SEND_CHUNK_BYTES;
  const pool: Buffer[] = [];
  let inFlight = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const signal = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const onClose = () => {
    failure ??= new NapError('CONNECTION_CLOSED', 'The downloader closed the connection.');
    signal();
  };
  socket.once('close', onClose);
  try {
    let position = start;
    const end = start + length;
    while (position < end) {
      while (inFlight >= MAX_IN_FLIGHT && failure === undefined)
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
      inFlight++;
      socket.write(buffer.subarray(0, bytesRead), (error) => {
        inFlight--;
        pool.push(buffer);
        if (error) failure ??= error;
        signal();
      });
    }
    while (inFlight > 0 && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
    if (failure) throw failure;
  } finally {
    socket.off('close', onClose);
    // Chunks still queued in a broken socket are not returned: the socket may yet read them.
    if (inFlight === 0) recycle(pool);
  }
}
