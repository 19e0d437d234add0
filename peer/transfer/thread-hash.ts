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
 * digest of bytes it did not hash) and the hashes it held are gone: every later operation on one
 * of them fails at once with the same reason, while new hashes start a new thread.
 */
import type { Worker } from 'node:worker_threads';
import { startPlainWorker } from '../plain-worker.ts';

const WORKER_URL = new URL('./sha256-worker.mjs', import.meta.url);

/**
 * Test hooks (docs/testing.md), read once: a thread is stopped right after this many updates were
 * asked of it, as if it had died (a test of a download through the real CLI cannot reach into the
 * process otherwise), and so are the threads after it, up to NAPSHARE_TEST_STOP_HASH_THREADS of
 * them (default 1). Later threads are left alone, so the same process then shows that it
 * recovers. Unset or 0 in every real run.
 */
const STOP_AFTER_UPDATES = Number(process.env.NAPSHARE_TEST_STOP_HASH_THREAD_AFTER) || 0;
const THREADS_TO_STOP = STOP_AFTER_UPDATES > 0 ? Number(process.env.NAPSHARE_TEST_STOP_HASH_THREADS) || 1 : 0;

/**
 * Why a hash failed when its thread is gone (it crashed, ran out of memory, was stopped): nothing
 * the bytes or their source did. A download tells it apart to resume on a new thread rather than
 * blame the peer that sent them.
 */
export class HashThreadLost extends Error {
  override name = 'HashThreadLost';
}

/** The thread's answer to one operation (sha256-worker.mjs). */
interface Answer {
  reply: number;
  hex?: string;
  live?: number;
  error?: string;
}

interface Waiter {
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
}

class HashThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private nextReply = 1;
  // Answers awaited, by reply number: one per update and digest under way.
  private readonly waiting = new Map<number, Waiter>();
  /** The thread new hashes live on: one more each time a thread is lost. */
  generation = 0;
  /**
   * Why each lost thread is gone, by generation: its hashes fail with that sentence rather than
   * be sent to a new thread, which would only say it knows no such hash.
   */
  private readonly deaths = new Map<number, Error>();
  /** Updates left before the test hook stops the thread (STOP_AFTER_UPDATES); 0: never. */
  private updatesBeforeStop = 0;
  /** Threads the test hook has yet to stop (THREADS_TO_STOP). */
  private threadsLeftToStop = THREADS_TO_STOP;

  newId(): number {
    return this.nextId++;
  }

  /** Sends an operation on a hash of `generation` that needs no answer (dropped if its thread is gone). */
  post(generation: number, op: object, transfer: ArrayBuffer[] = []): void {
    if (this.deaths.has(generation)) return;
    this.thread().postMessage(op, transfer);
  }

  /** Sends an operation on a hash of `generation`; resolves with the thread's answer. */
  ask(
    generation: number,
    op: { op: string; [field: string]: unknown },
    transfer: ArrayBuffer[] = [],
  ): Promise<Answer> {
    const death = this.deaths.get(generation);
    if (death) return quiet(Promise.reject(death));
    const reply = this.nextReply++;
    const answer = new Promise<Answer>((resolve, reject) => {
      this.waiting.set(reply, { resolve, reject });
    });
    const worker = this.thread();
    if (this.waiting.size === 1) worker.ref();
    worker.postMessage({ ...op, reply }, transfer);
    if (op.op === 'update' && this.updatesBeforeStop > 0 && --this.updatesBeforeStop === 0) {
      this.threadsLeftToStop--;
      void this.stop();
    }
    return quiet(answer);
  }

  /** Ends the thread as a crash would: what it was asked fails, the hashes it held are gone. */
  async stop(): Promise<void> {
    await this.worker?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = startPlainWorker(WORKER_URL);
    worker.unref();
    // Counted from this thread's first update: those asked of a thread being stopped do not count.
    if (this.threadsLeftToStop > 0) this.updatesBeforeStop = STOP_AFTER_UPDATES;
    worker.on('message', (message: Answer) => {
      const waiter = this.waiting.get(message.reply);
      this.waiting.delete(message.reply);
      if (this.waiting.size === 0) worker.unref();
      if (message.error !== undefined) waiter?.reject(new Error(`SHA-256 thread: ${message.error}`));
      else waiter?.resolve(message);
    });
    const lost = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.deaths.set(this.generation, error);
      this.generation++;
      const waiters = [...this.waiting.values()];
      this.waiting.clear();
      for (const waiter of waiters) waiter.reject(error);
    };
    worker.on('error', (error) => lost(new HashThreadLost(`The SHA-256 thread failed: ${error.message}`)));
    worker.on('exit', (code) => lost(new HashThreadLost(`The SHA-256 thread stopped (exit code ${code}).`)));
    this.worker = worker;
    return worker;
  }
}

const thread = new HashThread();

/**
 * Stops the SHA-256 thread as if it had died, for tests only (the thread's death is otherwise
 * unreachable): resolves once it is gone and every answer it owed has failed. The next hash
 * starts a new thread.
 */
export function stopHashThreadForTests(): Promise<void> {
  return thread.stop();
}

/**
 * How many running hashes the SHA-256 thread holds (after every operation asked before), for
 * tests that a download lets go of all of its own.
 */
export async function liveHashesForTests(): Promise<number> {
  return (await thread.ask(thread.generation, { op: 'live' })).live as number;
}

/** `promise`, whose failure is not unhandled if nobody awaits it any more (a cancelled range). */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

export class ThreadHash {
  private constructor(
    private readonly id: number,
    /** The thread (HashThread.generation) that holds this hash. */
    private readonly generation: number,
  ) {}

  /** A new SHA-256 of nothing yet. */
  static create(): ThreadHash {
    const hash = new ThreadHash(thread.newId(), thread.generation);
    thread.post(hash.generation, { op: 'new', id: hash.id });
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
          .ask(this.generation, {
            op: 'update',
            id: this.id,
            memory: buffer,
            offset: data.byteOffset,
            length: data.length,
          })
          .then(() => undefined),
      );
    }
    const copy = new Uint8Array(data).buffer;
    return quiet(
      thread
        .ask(
          this.generation,
          { op: 'update', id: this.id, memory: copy, offset: 0, length: copy.byteLength },
          [copy],
        )
        .then(() => undefined),
    );
  }

  /** A new hash in the state this one is in now (after every update made so far). */
  copy(): ThreadHash {
    const copy = new ThreadHash(thread.newId(), this.generation);
    thread.post(this.generation, { op: 'copy', id: copy.id, from: this.id });
    return copy;
  }

  /** The hex SHA-256 of everything added; this hash is then used up. */
  digest(): Promise<string> {
    return quiet(thread.ask(this.generation, { op: 'digest', id: this.id }).then(({ hex }) => hex as string));
  }

  /** Lets the hash go without a digest. */
  forget(): void {
    thread.post(this.generation, { op: 'drop', id: this.id });
  }
}
