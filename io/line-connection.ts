/**
 * One client of a line-based JSON server: reads `\n`-terminated lines with a bound, hands them to
 * a handler one at a time (so replies go out in request order), and writes replies. Reading
 * pauses while requests pile up or the client does not read its replies, so a fast or stuck
 * client costs bounded memory and never disturbs the others. The connection's guard
 * (connection-guard.ts) sees its input (unfinished-line deadline, the server's input budget) and
 * bounds its unread output.
 * A handler may answer at once (a value) or later (a promise). The replies a client's pipelined
 * lines get at once are gathered and go out in one write; the lines are handled synchronously in
 * the socket's own `data` event, and only a promise (or a client that must read first) costs a
 * turn of the event loop.
 */
import { NapError } from '../shared/errors.ts';
import { encodeLine } from '../shared/json-line.ts';
import { LineSplitter } from '../shared/line-splitter.ts';
import type { GuardedConnection } from './connection-guard.ts';

/** Lines read ahead of the handler before reading pauses: enough to pipeline, bounded memory. */
const MAX_QUEUED_LINES = 64;
/**
 * Bytes of replies gathered before they are written (one write each): 16 replies of a popular
 * name in one write, not three. At most half the guard's unread bound, which it checks per write:
 * replies are written while what the client left unread is under the socket's high-water mark, so
 * a batch never makes a reading client pass the bound that its replies one by one would not.
 */
const MAX_BATCH_BYTES = 64 * 1024;
const CARRIAGE_RETURN = 0x0d;

/** A reply: a message to encode, or a line already encoded (with its `\n`); undefined: none. */
export type LineReply = object | string | Uint8Array | undefined;

export interface LineConnectionOptions {
  maxLineBytes: number;
  /**
   * Handles one line: its bytes, without the `\n` or a trailing `\r`, as they came (invalid UTF-8
   * included; decodeUtf8 keeps it visible): a view of what the socket read, never written over.
   * What it returns (at once or as a promise) is the reply. Throwing is not expected.
   */
  onLine: (line: Buffer) => LineReply | Promise<LineReply>;
  /** A read completed at least one line (before they are handled): the client is alive. */
  onActive?: () => void;
  /** The reply to a line over the bound; the connection closes after it. */
  onOverflow: (error: NapError) => object;
  onClose?: () => void;
}

export class LineConnection {
  private readonly splitter: LineSplitter;
  // Lines read and not handled yet: queue[head..], at most a chunk's worth past MAX_QUEUED_LINES.
  private readonly queue: Buffer[] = [];
  private head = 0;
  // Bytes of the queued lines: with the splitter's bytes, this client's unhandled input.
  private queuedLength = 0;
  // The loop runs, or waits for a reply or for the client to read: lines wait their turn.
  private working = false;
  // Replies made at once and not written yet (at most maxBatchBytes, then written), and
  // whether one is a Buffer (the batch is then written as one Buffer, not one string).
  private batching = false;
  private readonly batch: (string | Uint8Array)[] = [];
  private batchBytes = 0;
  private batchHasBytes = false;
  private readonly maxBatchBytes: number;
  private closed = false;
  private overflow: NapError | undefined;

  constructor(
    readonly connection: GuardedConnection,
    private readonly options: LineConnectionOptions,
  ) {
    const socket = connection.socket;
    this.splitter = new LineSplitter(options.maxLineBytes);
    const unread = connection.maxUnreadBytes;
    this.maxBatchBytes = unread > 0 ? Math.max(1, Math.min(MAX_BATCH_BYTES, unread >> 1)) : MAX_BATCH_BYTES;
    // Dismissed or cut: what was buffered for this client goes now.
    connection.onStop(() => {
      this.splitter.takeRest();
      this.queue.length = 0;
      this.head = 0;
      this.queuedLength = 0;
      this.dropBatch();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.resumeIfIdle());
    // A reset or a write to a vanished client is that client's end, nobody else's.
    socket.on('error', () => this.close());
    socket.on('close', () => {
      this.closed = true;
      this.options.onClose?.();
    });
  }

  get socket() {
    return this.connection.socket;
  }

  /**
   * Sends one message (a reply, or a message the server pushes). A client that leaves more than
   * the guard's bound unread is cut off instead. While a batch of replies is being made, it goes
   * after them, in order.
   */
  send(message: LineReply): void {
    if (message === undefined || this.closed || this.connection.done) return;
    const line = typeof message === 'string' || message instanceof Uint8Array ? message : encodeLine(message);
    if (!this.batching) {
      this.write(line);
      return;
    }
    this.batch.push(line);
    this.batchBytes += line.length;
    if (typeof line !== 'string') this.batchHasBytes = true;
    if (this.batchBytes >= this.maxBatchBytes) this.writeBatch();
  }

  /** Closes the connection at once. Idempotent. */
  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private write(data: string | Uint8Array): void {
    if (!this.connection.write(data)) return;
    // The client reads slower than it asks: stop reading its requests until it catches up.
    if (this.socket.writableNeedDrain) this.socket.pause();
  }

  /** Writes the gathered replies in one write: one string, or one Buffer if any is bytes. */
  private writeBatch(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    let data: string | Uint8Array;
    if (batch.length === 1) data = batch[0] as string | Uint8Array;
    else if (!this.batchHasBytes) data = batch.join('');
    else {
      for (let i = 0; i < batch.length; i++) {
        const part = batch[i] as string | Uint8Array;
        if (typeof part === 'string') batch[i] = Buffer.from(part, 'utf8');
      }
      data = Buffer.concat(batch as Uint8Array[]);
    }
    this.dropBatch();
    if (!this.closed && !this.connection.done) this.write(data);
  }

  private dropBatch(): void {
    this.batch.length = 0;
    this.batchBytes = 0;
    this.batchHasBytes = false;
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.connection.done || this.overflow !== undefined) return;
    const before = this.queued;
    try {
      let line = this.splitter.shiftBytes(chunk);
      while (line !== null) {
        const end =
          line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN ? line.length - 1 : line.length;
        const trimmed = end === line.length ? line : line.subarray(0, end);
        this.queue.push(trimmed);
        this.queuedLength += trimmed.length;
        line = this.splitter.shiftBytes();
      }
    } catch (error) {
      if (!(error instanceof NapError)) throw error;
      // The lines before the oversized one are still answered, in order, then the error.
      this.overflow = error;
      this.socket.pause();
    }
    const completed = this.queued > before;
    if (completed) {
      this.connection.requestSeen();
      this.options.onActive?.();
    }
    this.reportInput(completed);
    if (this.connection.done) return;
    if (this.queued >= MAX_QUEUED_LINES) this.socket.pause();
    this.work();
  }

  private get queued(): number {
    return this.queue.length - this.head;
  }

  private reportInput(completed: boolean): void {
    const partial = this.overflow === undefined ? this.splitter.bufferedBytes : 0;
    this.connection.input(partial + this.queuedLength, partial > 0, completed);
  }

  /**
   * Answers the queued lines in order. Replies made at once are gathered and written together
   * when the queue is empty, a reply must be waited for, or the client must read first; nothing
   * is held across a wait. A wait ends in `resumeAfter`, which runs this again.
   */
  private work(): void {
    if (this.working) return;
    this.working = true;
    this.batching = true;
    let waiting = false;
    try {
      waiting = this.answerQueued();
    } finally {
      this.batching = false;
      this.writeBatch();
      if (!waiting) this.working = false;
    }
    if (!waiting) this.resumeIfIdle();
  }

  /** The loop of `work`; true when it stopped to wait (the queue is not done). */
  private answerQueued(): boolean {
    while (this.queued > 0 && !this.closed && !this.connection.done) {
      // Replies wait for the client to read the previous ones: what it leaves unread stays
      // one reply deep, however many requests it pipelines.
      if (this.socket.writableNeedDrain) {
        this.writeBatch();
        if (this.socket.writableNeedDrain) {
          this.reportInput(false);
          this.resumeAfter(this.connection.drained());
          return true;
        }
        if (this.closed || this.connection.done) break;
      }
      const line = this.queue[this.head++] as Buffer;
      this.queuedLength -= line.length;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      const reply = this.options.onLine(line);
      if (reply instanceof Promise) {
        this.writeBatch();
        this.reportInput(false);
        // The server's own wait (a lock, a store): not the client's idleness.
        this.connection.setAnswering(true);
        this.resumeAfter(
          reply.then(
            (answer) => {
              this.connection.setAnswering(false);
              this.send(answer);
            },
            () => {
              // Handlers answer refusals themselves; a rejection is a bug, this client's end.
              this.connection.setAnswering(false);
              this.close();
            },
          ),
        );
        return true;
      }
      this.send(reply);
    }
    this.writeBatch();
    if (!this.connection.done) this.reportInput(false);
    if (this.overflow !== undefined && !this.closed && !this.connection.done) {
      this.closed = true;
      this.connection.dismissWith(encodeLine(this.options.onOverflow(this.overflow)));
    }
    return false;
  }

  /** Goes on with the queue once `wait` (a reply sent, or the client's reading) is over. */
  private resumeAfter(wait: Promise<void>): void {
    void wait.then(() => {
      this.working = false;
      this.work();
    });
  }

  private resumeIfIdle(): void {
    if (this.closed || this.connection.done || this.working || this.overflow !== undefined) return;
    if (this.queued < MAX_QUEUED_LINES && !this.socket.writableNeedDrain) this.socket.resume();
  }
}
