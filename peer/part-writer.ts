/**
 * Writes received bytes into a `.part` file in large batches: socket chunks are 64 KiB, and one
 * write per chunk costs ~4x the throughput (docs/performance.md). Memory stays bounded: past
 * MAX_PENDING_BYTES the writer asks its producer to pause until the disk catches up.
 */
import type { FileHandle } from 'node:fs/promises';

/** Bytes gathered before one writev: large sequential writes are what disks and page caches like. */
export const WRITE_BATCH_BYTES = 4 * 1024 * 1024;
/** Bytes held in memory (pending + being written) before the producer must pause. */
export const MAX_PENDING_BYTES = 16 * 1024 * 1024;

export class PartWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private writing: Promise<void> | undefined;
  private writingBytes = 0;
  private failure: Error | undefined;
  private drainWaiters: (() => void)[] = [];

  /** @param position where the next byte goes in the file. */
  constructor(
    private readonly handle: FileHandle,
    private position: number,
  ) {}

  /** Queues `chunk` (the caller must not reuse it). False when the producer should pause. */
  push(chunk: Buffer): boolean {
    if (this.failure) throw this.failure;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= WRITE_BATCH_BYTES) this.startWrite();
    return !this.needsDrain;
  }

  get needsDrain(): boolean {
    return this.pendingBytes + this.writingBytes >= MAX_PENDING_BYTES;
  }

  /** Resolves when the producer may go on (memory is back under the bound). */
  drained(): Promise<void> {
    if (!this.needsDrain || this.failure) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Writes everything queued; rejects if any write failed. */
  async flush(): Promise<void> {
    while (this.writing || this.pendingBytes > 0) {
      if (this.writing) await this.writing;
      else this.startWrite();
    }
    if (this.failure) throw this.failure;
  }

  /** Position after the last byte queued. */
  get end(): number {
    return this.position + this.pendingBytes + this.writingBytes;
  }

  private startWrite(): void {
    if (this.writing || this.pendingBytes === 0 || this.failure) return;
    const buffers = this.pending;
    const bytes = this.pendingBytes;
    const at = this.position;
    this.pending = [];
    this.pendingBytes = 0;
    this.writingBytes = bytes;
    this.writing = writeAll(this.handle, buffers, at)
      .then(
        () => {
          this.position += bytes;
        },
        (error: Error) => {
          this.failure = error;
        },
      )
      .finally(() => {
        this.writing = undefined;
        this.writingBytes = 0;
        if (this.pendingBytes >= WRITE_BATCH_BYTES) this.startWrite();
        if (!this.needsDrain || this.failure) for (const wake of this.drainWaiters.splice(0)) wake();
      });
  }
}

/** writev until every byte is written (the OS may write fewer bytes than asked). */
async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, at);
    at += bytesWritten;
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const buffer of rest) {
      if (skip >= buffer.length) {
        skip -= buffer.length;
        continue;
      }
      next.push(skip > 0 ? buffer.subarray(skip) : buffer);
      skip = 0;
    }
    rest = next;
  }
}
