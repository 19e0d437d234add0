/**
 * The `.part` file of a download. On open, pieces already present (from an interrupted download,
 * from any source) are checked against the piece hashes: good ones are kept, anything else is
 * fetched again. The file takes its final name only once every piece is verified.
 */

import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { NapError } from '../../shared/errors.ts';
import { pieceRange } from '../../shared/pieces.ts';
import { DirectWrites } from './direct-writes.ts';
import type { ExpectedHashes } from './expected-hashes.ts';
import { claimFinalName, type LinkFunction } from './final-name.ts';
import { ThreadHash } from './thread-hash.ts';

export interface PartScan {
  /** have[i]: piece i is on disk and verified. */
  have: boolean[];
  /** Bytes on disk of the first missing piece, when the file ends inside it (a cut download). */
  partialBytes: number;
  /** Checked by prefix hashes: the running SHA-256 to go on from (at the first byte). */
  chain?: ThreadHash;
}

/**
 * Bytes written through the page cache between background flushes (pieces written O_DIRECT are
 * on the device already). The file must be on disk before it is renamed; one flush of gigabytes
 * at the end would cost as long as the transfer, flushing as it goes overlaps that with it.
 */
export const FLUSH_EVERY_BYTES = 128 * 1024 * 1024;

export class PartFile {
  private unflushed = 0;
  private flushing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
    private readonly expected: ExpectedHashes,
    private readonly direct: DirectWrites,
  ) {}

  /** Opens (or creates) `partPath` for a file described by `expected`, and checks what it holds. */
  static async open(partPath: string, expected: ExpectedHashes): Promise<{ part: PartFile; scan: PartScan }> {
    // 'r+' keeps what an interrupted download left; positioned writes need it (not 'a').
    const handle = await fs.open(partPath, 'r+').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return fs.open(partPath, 'wx+');
      throw error;
    });
    const part = new PartFile(partPath, handle, expected, await DirectWrites.open(partPath));
    try {
      return { part, scan: await part.scan() };
    } catch (error) {
      await part.direct.close();
      await handle.close();
      throw error;
    }
  }

  /** Writes `data` at `position` (every byte: the OS may write fewer than asked). */
  async write(data: Buffer, position: number): Promise<void> {
    if (await this.direct.write(data, position)) return;
    for (let at = 0; at < data.length; ) {
      const { bytesWritten } = await this.handle.write(data, at, data.length - at, position + at);
      at += bytesWritten;
    }
    this.unflushed += data.length;
    if (this.unflushed >= FLUSH_EVERY_BYTES && !this.flushing) {
      this.unflushed = 0;
      // A failed background flush is found again by the final one, which is awaited.
      this.flushing = this.handle
        .datasync()
        .catch(() => undefined)
        .finally(() => {
          this.flushing = undefined;
        });
    }
  }

  /** Whether aligned pieces are written around the page cache (tests). */
  get writesDirect(): boolean {
    return this.direct.active;
  }

  async read(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    for (let at = 0; at < length; ) {
      const { bytesRead } = await this.handle.read(buffer, at, length - at, position + at);
      if (bytesRead === 0) throw new NapError('IO', `${this.path} is shorter than expected.`);
      at += bytesRead;
    }
    return buffer;
  }

  /**
   * Makes the file exactly the final size, flushes it to disk, closes it and gives it the final
   * name, unless something is there already: then EXISTS, and the `.part` stays, verified.
   */
  // The file stored in the peer's folder under its name (seed 003, 5h), complete and verified.
  async finish(finalPath: string, link?: LinkFunction): Promise<void> {
    try {
      await this.handle.truncate(this.expected.size);
      // Durable before it takes the final name: a crash must never leave a complete-looking file
      // whose bytes never reached the disk.
      await this.flushing;
      await this.handle.datasync();
    } finally {
      this.closed = true;
      await this.direct.close();
      await this.handle.close();
    }
    await claimFinalName(this.path, finalPath, { verified: true, link });
  }

  /** Closes the file, keeping it for a later resume (removed if nothing was written). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    const size = (await this.handle.stat().catch(() => null))?.size;
    await this.direct.close();
    await this.handle.close().catch(() => undefined);
    if (size === 0) await fs.rm(this.path, { force: true });
  }

  private async scan(): Promise<PartScan> {
    const { size, pieceSize, pieceCount, kind } = this.expected;
    let onDisk = (await this.handle.stat()).size;
    // Longer than the file: left by another version of it; the extra bytes are not ours.
    if (onDisk > size) {
      await this.handle.truncate(size);
      onDisk = size;
    }
    const have = new Array<boolean>(pieceCount).fill(false);
    // Prefix hashes are used for fresh downloads only (download.ts): nothing on disk is kept, the
    // running hash starts at the first byte.
    if (kind === 'prefixes') return { have, partialBytes: 0, chain: ThreadHash.create() };
    let partialBytes = 0;
    const buffer = Buffer.allocUnsafe(Math.min(pieceSize, Math.max(onDisk, 1)));
    for (let index = 0; index < pieceCount; index++) {
      const { start, end } = pieceRange(index, size, pieceSize);
      if (end > onDisk) {
        if (start < onDisk && partialBytes === 0 && have.slice(0, index).every(Boolean))
          partialBytes = onDisk - start;
        break;
      }
      const data = buffer.subarray(0, end - start);
      const { bytesRead } = await this.handle.read(data, 0, data.length, start);
      have[index] =
        bytesRead === data.length &&
        createHash('sha256').update(data).digest('hex') === (await this.expected.hashOf(index));
    }
    return { have, partialBytes };
  }
}
