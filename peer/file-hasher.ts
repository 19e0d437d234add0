/**
 * SHA-256 of whole files and of their pieces, for INFO (docs/protocol.md). Uploaders hash lazily,
 * on the first INFO for a file, and cache by path, size and mtime; concurrent INFOs for one file
 * share one pass over it.
 */
import { createHash } from 'node:crypto';
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

/** Hashes the file at `filePath`, `size` bytes long, whole and per piece. */
export async function hashFile(
  filePath: string,
  size: number,
  pieceSize = choosePieceSize(size),
): Promise<FileInfo> {
  const handle = await fs.open(filePath, 'r');
  try {
    const whole = createHash('sha256');
    const pieces: string[] = [];
    const buffer = Buffer.allocUnsafe(Math.min(HASH_CHUNK_BYTES, pieceSize));
    let piece = createHash('sha256');
    let inPiece = 0;
    for (let position = 0; position < size; ) {
      const want = Math.min(buffer.length, size - position, pieceSize - inPiece);
      const { bytesRead } = await handle.read(buffer, 0, want, position);
      if (bytesRead === 0) throw new NapError('IO', 'The file became shorter while it was being hashed.');
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
  } finally {
    await handle.close();
  }
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  info: Promise<FileInfo>;
}

export class HashCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly hashing = new Semaphore(MAX_CONCURRENT_HASHES);

  /** The hashes of `file`, computed once per (path, size, mtime). */
  get(file: SharedFile): Promise<FileInfo> {
    const cached = this.entries.get(file.path);
    if (cached && cached.size === file.size && cached.mtimeMs === file.mtimeMs) {
      // Refresh its place in the LRU order.
      this.entries.delete(file.path);
      this.entries.set(file.path, cached);
      return cached.info;
    }
    const info = this.hashing.runExclusive(() => hashFile(file.path, file.size));
    const entry: CacheEntry = { size: file.size, mtimeMs: file.mtimeMs, info };
    this.entries.set(file.path, entry);
    // A failed pass is not remembered: the next INFO tries again.
    info.catch(() => {
      if (this.entries.get(file.path) === entry) this.entries.delete(file.path);
    });
    if (this.entries.size > MAX_CACHED_FILES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return info;
  }
}
