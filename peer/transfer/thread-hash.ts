/**
 * SHA-256 computed on another thread (peer/transfer/sha256-worker.mjs): a running hash that can
 * be updated, copied and finished like node:crypto's, except that it works on the bytes later and
 * says so — `update` resolves once the bytes are hashed (their buffer may then be refilled),
 * `digest` resolves with the hex digest. Operations run in the order they are made. The download's
 * receiving thread so only receives and writes, while the hashing takes the other core
 * (docs/performance.md, "Hashing beside the socket").
 *
 * One thread serves every download of the process; it starts with the first hash and keeps the
 * process alive only while an answer is awaited. If it dies, what was asked of it fails (never a
 * digest of bytes it did not hash): the hashes it held are gone, and a new thread knows none of
 * them, so every later operation on them fails too.
 */
import type { Worker } from 'node:worker_threads';
import { startPlainWorker } from '../plain-worker.ts';

const WORKER_URL = new URL('./sha256-worker.mjs', import.meta.url);

interface Waiter {
  resolve: (hex: string | undefined) => void;
  reject: (error: Error) => void;
}

class HashThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private nextReply = 1;
  // Answers awaited, by reply number: one per update and digest under way.
  private readonly waiting = new Map<number, Waiter>();

  newId(): number {
    return this.nextId++;
  }

  post(op: object, transfer: ArrayBuffer[] = []): void {
    this.thread().postMessage(op, transfer);
  }

  ask(op: object, transfer: ArrayBuffer[] = []): Promise<string | undefined> {
    const reply = this.nextReply++;
    const answer = new Promise<string | undefined>((resolve, reject) => {
      this.waiting.set(reply, { resolve, reject });
    });
    const worker = this.thread();
    if (this.waiting.size === 1) worker.ref();
    worker.postMessage({ ...op, reply }, transfer);
    return quiet(answer);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = startPlainWorker(WORKER_URL);
    worker.unref();
    worker.on('message', (message: { reply: number; hex?: string; error?: string }) => {
      const waiter = this.waiting.get(message.reply);
      this.waiting.delete(message.reply);
      if (this.waiting.size === 0) worker.unref();
      if (message.error !== undefined) waiter?.reject(new Error(`SHA-256 thread: ${message.error}`));
      else waiter?.resolve(message.hex);
    });
    const lost = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const waiters = [...this.waiting.values()];
      this.waiting.clear();
      for (const waiter of waiters) waiter.reject(error);
    };
    worker.on('error', (error) => lost(new Error(`The SHA-256 thread failed: ${error.message}`)));
    worker.on('exit', (code) => lost(new Error(`The SHA-256 thread stopped (exit code ${code}).`)));
    this.worker = worker;
    return worker;
  }
}

const thread = new HashThread();

/** `promise`, whose failure is not unhandled if nobody awaits it any more (a cancelled range). */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

export class ThreadHash {
  private constructor(private readonly id: number) {}

  /** A new SHA-256 of nothing yet. */
  static create(): ThreadHash {
    const hash = new ThreadHash(thread.newId());
    thread.post({ op: 'new', id: hash.id });
    return hash;
  }

  /**
   * Adds `data`. Bytes in shared memory (the download's buffers) are read in place: they must not
   * change until the promise resolves. Other bytes are copied at once.
   */
  update(data: Uint8Array): Promise<void> {
    const { buffer } = data;
    if (buffer instanceof SharedArrayBuffer) {
      return quiet(
        thread
          .ask({ op: 'update', id: this.id, memory: buffer, offset: data.byteOffset, length: data.length })
          .then(() => undefined),
      );
    }
    const copy = new Uint8Array(data).buffer;
    return quiet(
      thread
        .ask({ op: 'update', id: this.id, memory: copy, offset: 0, length: copy.byteLength }, [copy])
        .then(() => undefined),
    );
  }

  /** A new hash in the state this one is in now (after every update made so far). */
  copy(): ThreadHash {
    const copy = new ThreadHash(thread.newId());
    thread.post({ op: 'copy', id: copy.id, from: this.id });
    return copy;
  }

  /** The hex SHA-256 of everything added; this hash is then used up. */
  digest(): Promise<string> {
    return quiet(thread.ask({ op: 'digest', id: this.id }).then((hex) => hex as string));
  }

  /** Lets the hash go without a digest. */
  forget(): void {
    thread.post({ op: 'drop', id: this.id });
  }
}
