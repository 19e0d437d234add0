/**
 * One pass over one version of a shared file, computing as it reads: the prefix hashes (the
 * SHA-256 of everything up to each piece's end, from one running SHA-256: the last one is the
 * file's SHA-256) and, when asked, the piece hashes (SHA-256 of each piece alone: a second
 * SHA-256 over every byte). Results are published as they come, so a streamed INFO sends each
 * prefix hash while the rest of the file is still being read (docs/protocol.md, "INFO").
 */
import { createHash, type Hash } from 'node:crypto';
import type fs from 'node:fs/promises';
import { NapError } from '../shared/errors.ts';

/** Read size: sequential reads of 1 MiB hash as fast as larger ones, in less memory (two of them). */
const HASH_CHUNK_BYTES = 1024 * 1024;

export function changedWhileHashing(): NapError {
  return new NapError('CHANGED', 'The file changed while it was being hashed; ask INFO again.');
}

export class HashPass {
  /** Prefix hashes known so far (hex), in order. */
  readonly prefixes: string[] = [];
  /** Piece hashes known so far, when the pass computes them. */
  readonly pieces: string[] | undefined;
  /** The file's SHA-256, once every byte was read and the version checked. */
  sha256: string | undefined;
  /** Why the pass stopped (CHANGED: the file changed; an I/O error). */
  failure: Error | undefined;
  readonly pieceCount: number;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly size: number,
    readonly pieceSize: number,
    readonly version: string,
    withPieces: boolean,
  ) {
    this.pieceCount = Math.ceil(size / pieceSize);
    this.pieces = withPieces ? [] : undefined;
  }

  /** Calls `listener` after each new result and at the end; returns the unsubscribe function. */
  watch(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the pass is over: its SHA-256, or its failure thrown. */
  finishedPromise(): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.failure) reject(this.failure);
        else if (this.sha256 !== undefined) resolve(this.sha256);
        else return;
        stop();
      };
      const stop = this.watch(check);
      check();
    });
  }

  /**
   * Reads `handle` once from start to end. `stillVersion` is asked after each piece and at the
   * end: a file written to meanwhile would give hashes of a version that never existed.
   */
  async run(handle: fs.FileHandle, stillVersion: () => Promise<boolean>): Promise<void> {
    try {
      if (!(await stillVersion())) throw changedWhileHashing();
      await this.read(handle, stillVersion);
      if (!(await stillVersion())) throw changedWhileHashing();
      this.sha256 = this.prefixes[this.prefixes.length - 1] ?? createHash('sha256').digest('hex');
    } catch (error) {
      this.failure = error as Error;
    }
    this.publish();
  }

  private async read(handle: fs.FileHandle, stillVersion: () => Promise<boolean>): Promise<void> {
    const whole = createHash('sha256');
    const chunk = Math.min(HASH_CHUNK_BYTES, Math.max(1, this.pieceSize));
    // Two buffers: the next chunk is read (thread pool) while this one is hashed (here).
    const buffers = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)] as const;
    let piece: Hash | undefined = this.pieces ? createHash('sha256') : undefined;
    let inPiece = 0;
    let readAt = 0;
    // Reads stop at piece ends, so a chunk never spans two pieces.
    const readNext = (buffer: Buffer) => {
      const want = Math.min(chunk, this.size - readAt, this.pieceSize - (readAt % this.pieceSize));
      return handle.read(buffer, 0, want, readAt);
    };
    let next = this.size > 0 ? readNext(buffers[0]) : undefined;
    try {
      for (let turn = 1, position = 0; position < this.size; turn++) {
        const { bytesRead, buffer } = await (next as ReturnType<typeof readNext>);
        if (bytesRead === 0) throw changedWhileHashing();
        readAt += bytesRead;
        next = readAt < this.size ? readNext(buffers[turn % 2] as Buffer) : undefined;
        const data = buffer.subarray(0, bytesRead);
        whole.update(data);
        piece?.update(data);
        position += bytesRead;
        inPiece += bytesRead;
        if (inPiece === this.pieceSize || position === this.size) {
          if (!(await stillVersion())) throw changedWhileHashing();
          // The running hash goes on; a copy is finished into this piece's prefix hash.
          this.prefixes.push(whole.copy().digest('hex'));
          if (piece) {
            this.pieces?.push(piece.digest('hex'));
            piece = createHash('sha256');
          }
          inPiece = 0;
          this.publish();
        }
      }
    } finally {
      // A read still under way must end before its buffer is let go (and its error is ours).
      await next?.catch(() => undefined);
    }
  }

  private publish(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
