/**
 * SHA-256 of whole files and of their pieces, for INFO (docs/protocol.md). Uploaders hash lazily,
 * on the first INFO for a file, and cache by path and version (size, mtime, inode); concurrent
 * INFOs for one file share one pass over it.
 */
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs/promises';
import { Semaphore } from 'async-mutex';
import { NapError } from '../shared/errors.ts';
import { choosePieceSize } from '../shared/pieces.ts';
import type { FileInfo } from '../shared/transfer-protocol.ts';
import type { SharedFile } from './shared-folder.ts';

/** Read size while hashing: sequential reads of 1 MiB hash as fast as larger ones, in less memory. */
const HASH_CHUNK_BYTES = 1024 * 1024;
/** Files hashed at once: hashing is disk- and CPU-bound, more in parallel only thrashes. */
const MAX_CONCURRENT_HASHES = 2;
/** Cached results kept: one small object per file, so a large shared folder fits; LRU past that. */
const MAX_CACHED_FILES = 10_000;

/**
 * The token INFO_OK's `version` carries (docs/protocol.md, "INFO"): it changes whenever the file's
 * size, modification time or inode does (written in place, truncated, or replaced by another
 * file). Nanoseconds and a bigint inode, so equal tokens mean the same stat, not a rounding.
 */
export function fileVersion(stat: BigIntStats): string {
  return `${stat.size}-${stat.mtimeNs}-${stat.ino}`;
}

/** The version of the file open as `handle`, now. */
export async function currentVersion(handle: fs.FileHandle): Promise<string> {
  return fileVersion(await handle.stat({ bigint: true }));
}

/** Hashes the file at `filePath`, `size` bytes long, whole and per piece. */
export async function hashFile(
  filePath: string,
  size: number,
  pieceSize = choosePieceSize(size),
): Promise<FileInfo> {
  const handle = await fs.open(filePath, 'r');
  try {
    return await hashHandle(handle, size, pieceSize);
  } finally {
    await handle.close();
  }
}

async function hashHandle(handle: fs.FileHandle, size: number, pieceSize: number): Promise<FileInfo> {
  const whole = createHash('sha256');
  const pieces: string[] = [];
  const buffer = Buffer.allocUnsafe(Math.min(HASH_CHUNK_BYTES, pieceSize));
  let piece = createHash('sha256');
  let inPiece = 0;
  for (let position = 0; position < size; ) {
    const want = Math.min(buffer.length, size - position, pieceSize - inPiece);
    const { bytesRead } = await handle.read(buffer, 0, want, position);
    if (bytesRead === 0) throw changedWhileHashing();
    const data = buffer.subarray(0, bytesRead);
    whole.update(data);
    piece.update(data);
    position += bytesRead;
    inPiece += bytesRead;
    if (inPiece === pieceSize || position === size) {
      pieces.push(piece.digest('hex'));
      piece = createHash('sha256');
      inPiece = 0;
    }
  }
  return { size, sha256: whole.digest('hex'), pieceSize, pieces };
}

function changedWhileHashing(): NapError {
  return new NapError('CHANGED', 'The file changed while it was being hashed; ask INFO again.');
}

/**
 * Hashes the open file if it still is `version`, and checks it still is once every byte was read:
 * a file written to meanwhile would give hashes of a version that never existed.
 */
async function hashVersion(handle: fs.FileHandle, version: string): Promise<FileInfo> {
  const stat = await handle.stat({ bigint: true });
  if (fileVersion(stat) !== version) throw changedWhileHashing();
  const size = Number(stat.size);
  const info = await hashHandle(handle, size, choosePieceSize(size));
  if ((await currentVersion(handle)) !== version) throw changedWhileHashing();
  return { ...info, version };
}

interface CacheEntry {
  version: string;
  info: Promise<FileInfo>;
}

export class HashCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly hashing = new Semaphore(MAX_CONCURRENT_HASHES);

  /**
   * The hashes of `file` as it is now, computed once per version (size, mtime, inode) of it.
   * Throws CHANGED when the file changed while it was being hashed.
   */
  async get(file: SharedFile): Promise<FileInfo> {
    // The version is taken from the open file, the one that is hashed (the name may be replaced).
    const handle = await fs.open(file.path, 'r');
    try {
      const version = await currentVersion(handle);
      const cached = this.entries.get(file.path);
      if (cached && cached.version === version) {
        // Refresh its place in the LRU order.
        this.entries.delete(file.path);
        this.entries.set(file.path, cached);
        return await cached.info;
      }
      const info = this.hashing.runExclusive(() => hashVersion(handle, version));
      const entry: CacheEntry = { version, info };
      this.entries.set(file.path, entry);
      // A failed pass is not remembered: the next INFO tries again.
      info.catch(() => this.forget(file.path, entry));
      if (this.entries.size > MAX_CACHED_FILES) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      return await info;
    } finally {
      await handle.close();
    }
  }

  /** Drops what is cached for `filePath` (the file changed), or only `entry` when given. */
  forget(filePath: string, entry?: CacheEntry): void {
    if (entry === undefined || this.entries.get(filePath) === entry) this.entries.delete(filePath);
  }
}
