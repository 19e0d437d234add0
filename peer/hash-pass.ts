/**
 * One pass over one version of a shared file, computing as it reads: the prefix hashes (the
 * SHA-256 of everything up to each piece's end, from one running SHA-256: the last one is the
 * file's SHA-256) and, when asked, the piece hashes (SHA-256 of each piece alone: a second
 * SHA-256 over every byte). Results are published as they come, so a streamed INFO sends each
 * prefix hash while the rest of the file is still being read (docs/protocol.md, "INFO").
 */
import { createHash } from 'node:crypto';
import type fs from 'node:fs/promises';
import { NapError } from '../shared/errors.ts';
import { startPlainWorker } from './plain-worker.ts';

/** Read size: sequential reads of 1 MiB hash as fast as larger ones, in little memory. */
const HASH_CHUNK_BYTES = 1024 * 1024;
const WORKER_URL = new URL('./hash-worker.mjs', import.meta.url);

/** What peer/hash-worker.mjs posts: a piece's hashes, the end, or why it stopped. */
type WorkerMessage =
  | { prefix: string; piece?: string }
  | { done: true }
  | { error: { code: string; message: string } };

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

  /**
   * The reading and hashing run in a worker thread (peer/hash-worker.mjs), so the uploader's
   * thread keeps serving while a file is hashed; each piece's result is published here, in order,
   * once the file is checked to be still the same version.
   */
  private async read(handle: fs.FileHandle, stillVersion: () => Promise<boolean>): Promise<void> {
    if (this.size === 0) return;
    const worker = startPlainWorker(WORKER_URL);
    // Results in the order they come; each one waits for the version check of the previous.
    let chain = Promise.resolve();
    const finished = new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => reject(error);
      const enqueue = (step: () => Promise<void> | void) => {
        chain = chain.then(step);
        chain.catch(fail);
      };
      worker.on('message', (message: WorkerMessage) =>
        enqueue(async () => {
          if ('error' in message) {
            const { code, message: text } = message.error;
            // As the read's own error would have been: its errno code and message.
            throw code === 'CHANGED' ? changedWhileHashing() : Object.assign(new Error(text), { code });
          }
          if ('done' in message) return resolve();
          if (!(await stillVersion())) throw changedWhileHashing();
          this.prefixes.push(message.prefix);
          if (message.piece !== undefined) this.pieces?.push(message.piece);
          this.publish();
        }),
      );
      worker.on('error', fail);
      // It exits once its job is over: after its last message, which may still be in the chain.
      worker.on('exit', () => enqueue(() => fail(new Error('the hashing thread stopped'))));
    });
    const job = {
      fd: handle.fd,
      size: this.size,
      pieceSize: this.pieceSize,
      chunkBytes: HASH_CHUNK_BYTES,
      withPieces: this.pieces !== undefined,
    };
    worker.postMessage(job);
    try {
      await finished;
    } finally {
      // The worker reads the caller's descriptor: it must be gone (terminate stops it between
      // two reads, and resolves once it has) before the handle is closed.
      await worker.terminate();
    }
  }

  private publish(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
