/**
 * Piece writes that bypass the page cache (O_DIRECT). Written through the page cache, each byte
 * of a download was copied once more by the CPU (into the cache, about as costly as receiving
 * it) and then written back by the kernel behind the download's back, which is what the final
 * fdatasync waited for. With O_DIRECT the disk takes the bytes from the piece buffer itself: no
 * copy, and they are on the device when the write returns; the final fdatasync then only
 * flushes the device's cache and the file's metadata (docs/performance.md).
 *
 * O_DIRECT needs the memory, the file offset and the length aligned to the disk's block size:
 * piece buffers come from allocateAligned (peer/buffer-recycler.ts), pieces start at multiples
 * of the piece size. Anything else — a file's short last piece, a file system that refuses
 * O_DIRECT (tmpfs, some network shares) — is written through the page cache instead.
 */
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { BUFFER_ALIGNMENT, isAligned } from '../buffer-recycler.ts';

/** Opens a file for O_DIRECT writes (tests pass one that fails as some file systems do). */
export type DirectOpen = (filePath: string) => Promise<Pick<fs.FileHandle, 'write' | 'close'>>;

const openDirect: DirectOpen = (filePath) => fs.open(filePath, constants.O_RDWR | constants.O_DIRECT);

export class DirectWrites {
  private constructor(private handle: Pick<fs.FileHandle, 'write' | 'close'> | undefined) {}

  /** A second descriptor of `filePath` opened O_DIRECT; one that writes nothing where that fails. */
  static async open(filePath: string, open: DirectOpen = openDirect): Promise<DirectWrites> {
    return new DirectWrites(await open(filePath).catch(() => undefined));
  }

  /**
   * Writes all of `data` at `position` bypassing the page cache, when it can; false when it
   * cannot (not aligned, or the file system refuses it): the caller writes it buffered.
   */
  async write(data: Buffer, position: number): Promise<boolean> {
    const handle = this.handle;
    if (
      !handle ||
      !isAligned(data) ||
      position % BUFFER_ALIGNMENT !== 0 ||
      data.length % BUFFER_ALIGNMENT !== 0
    )
      return false;
    try {
      for (let at = 0; at < data.length; ) {
        const { bytesWritten } = await handle.write(data, at, data.length - at, position + at);
        at += bytesWritten;
      }
      return true;
    } catch (error) {
      // EINVAL: this file system takes O_DIRECT opens but not these writes. Buffered from now on
      // (the caller writes all of `data` again); any other error (disk full...) is the caller's.
      if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
      this.handle = undefined;
      await handle.close().catch(() => undefined);
      return false;
    }
  }

  /** Whether writes go around the page cache (tests). */
  get active(): boolean {
    return this.handle !== undefined;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }
}
