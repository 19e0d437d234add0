/**
 * SHA-256 of whole files, of their pieces and of their prefixes, for INFO (docs/protocol.md).
 * Uploaders hash lazily, on the first INFO for a file, and cache by path and version (size,
 * mtime, inode); concurrent INFOs for one file share one pass over it (peer/hash-pass.ts). A
 * streamed INFO needs only the prefix hashes: its pass reads the file with one SHA-256, and each
 * prefix hash is sent as soon as it is known.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs/promises';
import { Semaphore } from 'async-mutex';
import { choosePieceSize } from '../shared/pieces.ts';
import type { FileInfo } from '../shared/transfer-protocol.ts';
import { HashPass } from './hash-pass.ts';
import type { SharedFile } from './shared-folder.ts';

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
  const pass = new HashPass(size, pieceSize, '', true);
  await pass.run(handle, async () => true);
  if (pass.failure) throw pass.failure;
  return { size, sha256: pass.sha256 as string, pieceSize, pieces: pass.pieces as string[] };
}

interface CacheEntry {
  version: string;
  /** A pass computing the piece hashes too (INFO_OK); its prefix hashes serve streams as well. */
  full?: HashPass;
  /** A pass computing only the prefix hashes (a streamed INFO): one SHA-256 over the file, not two. */
  prefixOnly?: HashPass;
  /** Resolves when the pass has its turn (MAX_CONCURRENT_HASHES) and starts reading. */
  started?: Promise<void>;
}

export class HashCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly hashing = new Semaphore(MAX_CONCURRENT_HASHES);

  /**
   * The hashes of `file` as it is now, computed once per version (size, mtime, inode) of it.
   * Throws CHANGED when the file changed while it was being hashed.
   */
  async get(file: SharedFile): Promise<FileInfo> {
    const entry = await this.entryFor(file, true);
    const pass = entry.full as HashPass;
    const sha256 = await pass.finishedPromise();
    return {
      size: pass.size,
      sha256,
      pieceSize: pass.pieceSize,
      pieces: pass.pieces as string[],
      version: entry.version,
    };
  }

  /**
   * A pass over `file` as it is now that publishes its prefix hashes as it computes them: one
   * already done or under way for this version, or a new one (prefix hashes only). Resolves once
   * it is reading (or done); its failure (CHANGED...) is in `failure`.
   */
  async stream(file: SharedFile): Promise<HashPass> {
    const entry = await this.entryFor(file, false);
    await entry.started;
    return (entry.full ?? entry.prefixOnly) as HashPass;
  }

  /** Drops what is cached for `filePath` (the file changed), or only `entry` when given. */
  forget(filePath: string, entry?: CacheEntry): void {
    if (entry === undefined || this.entries.get(filePath) === entry) this.entries.delete(filePath);
  }

  /**
   * The entry of `file`'s current version, with a pass started if none fits: `full` needs the
   * piece hashes. The version is taken from the open file, the one that is hashed (the name may
   * be replaced meanwhile).
   */
  private async entryFor(file: SharedFile, full: boolean): Promise<CacheEntry> {
    const handle = await fs.open(file.path, 'r');
    let handedOver = false;
    try {
      const stat = await handle.stat({ bigint: true });
      const version = fileVersion(stat);
      let entry = this.entries.get(file.path);
      if (entry?.version !== version) {
        entry = { version };
        this.entries.set(file.path, entry);
        this.trim();
      } else {
        // Refresh its place in the LRU order.
        this.entries.delete(file.path);
        this.entries.set(file.path, entry);
      }
      if (entry.full || (!full && entry.prefixOnly)) return entry;
      const size = Number(stat.size);
      const pass = new HashPass(size, choosePieceSize(size), version, full);
      if (full) entry.full = pass;
      else entry.prefixOnly = pass;
      entry.started = this.launch(file.path, entry, pass, handle);
      handedOver = true;
      return entry;
    } finally {
      if (!handedOver) await handle.close();
    }
  }

  /** Runs `pass` over `handle` (then closed) in its turn; resolves when it starts reading. */
  private launch(filePath: string, entry: CacheEntry, pass: HashPass, handle: fs.FileHandle): Promise<void> {
    return new Promise((started) => {
      void this.hashing
        .runExclusive(async () => {
          started();
          await pass.run(handle, async () => (await currentVersion(handle)) === entry.version);
        })
        .finally(async () => {
          await handle.close().catch(() => undefined);
          // A failed pass is not remembered: the next INFO tries again.
          if (pass.failure) this.forget(filePath, entry);
          // The full pass has every prefix hash too.
          else if (pass === entry.full) entry.prefixOnly = undefined;
        });
    });
  }

  /** LRU: at most MAX_CACHED_FILES entries. */
  private trim(): void {
    while (this.entries.size > MAX_CACHED_FILES) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) return;
      this.entries.delete(oldest);
    }
  }
}
