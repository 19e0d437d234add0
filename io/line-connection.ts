/**
 * One client of a line-based JSON server: reads `\n`-terminated lines with a bound, hands them to
 * a handler one at a time (so replies go out in request order), and writes replies. Reading
 * pauses while requests pile up or the client does not read its replies, so a fast or stuck
 * client costs bounded memory and never disturbs the others. The connection's guard
 * (connection-guard.ts) sees its input (unfinished-line deadline, the server's input budget) and
 * bounds its unread output.
 * A handler may answer at once (a value) or later (a promise): the replies a client's pipelined
 * lines get at once go out in one write (the socket is corked while they are made), and only a
 * promise costs a turn of the event loop.
 */
import { NapError } from '../shared/errors.ts';
import { encodeLine } from '../shared/json-line.ts';
import { LineSplitter } from '../shared/line-splitter.ts';
import type { GuardedConnection } from './connection-guard.ts';

/** Lines read ahead of the handler before reading pauses: enough to pipeline, bounded memory. */
const MAX_QUEUED_LINES = 64;

/** A reply: a message to encode, or a line already encoded (with its `\n`); undefined: none. */
export type LineReply = object | string | Uint8Array | undefined;

export interface LineConnectionOptions {
  maxLineBytes: number;
  /** Handles one line; what it returns (at once or as a promise) is the reply. Throwing is not expected. */
  onLine: (line: string) => LineReply | Promise<LineReply>;
  /** The reply to a line over the bound; the connection closes after it. */
  onOverflow: (error: NapError) => object;
  onClose?: () => void;
}

export class LineConnection {
  private readonly splitter: LineSplitter;
  // Lines read and not handled yet: queue[head..], at most a chunk's worth past MAX_QUEUED_LINES.
  private queue: string[] = [];
  private head = 0;
  // Characters of the queued lines: with the splitter's bytes, this client's unhandled input.
  private queuedLength = 0;
  private working = false;
  private closed = false;
  private overflow: NapError | undefined;

  constructor(
    readonly connection: GuardedConnection,
    private readonly options: LineConnectionOptions,
  ) {
    const socket = connection.socket;
    this.splitter = new LineSplitter(options.maxLineBytes);
    // Dismissed or cut: what was buffered for this client goes now.
    connection.onStop(() => {
      this.splitter.takeRest();
      this.queue = [];
      this.head = 0;
      this.queuedLength = 0;
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
   * the guard's bound unread is cut off instead.
   */
  send(message: LineReply): void {
    if (message === undefined || this.closed || this.connection.done) return;
    const line = typeof message === 'string' || message instanceof Uint8Array ? message : encodeLine(message);
    if (!this.connection.write(line)) return;
    // The client reads slower than it asks: stop reading its requests until it catches up.
    if (this.socket.writableNeedDrain) this.socket.pause();
  }

  /** Closes the connection at once. Idempotent. */
  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.connection.done || this.overflow !== undefined) return;
    const before = this.queued;
    try {
      let line = this.splitter.shift(chunk);
      while (line !== null) {
        this.queue.push(line);
        this.queuedLength += line.length;
        line = this.splitter.shift();
      }
    } catch (error) {
      if (!(error instanceof NapError)) throw error;
      // The lines before the oversized one are still answered, in order, then the error.
      this.overflow = error;
      this.socket.pause();
    }
    const completed = this.queued > before;
    if (completed) this.connection.requestSeen();
    this.reportInput(completed);
    if (this.connection.done) return;
    if (this.queued >= MAX_QUEUED_LINES) this.socket.pause();
    void this.work();
  }

  private get queued(): number {
    return this.queue.length - this.head;
  }

  private reportInput(completed: boolean): void {
    const partial = this.overflow === undefined ? this.splitter.bufferedBytes : 0;
    this.connection.input(partial + this.queuedLength, partial > 0, completed);
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    // Replies made at once are corked, and go out together when the queue is empty or a reply
    // must be waited for; never held across an await.
    let corked = false;
    const flush = () => {
      if (!corked) return;
      corked = false;
      this.connection.uncork();
    };
    try {
      while (this.queued > 0 && !this.closed && !this.connection.done) {
        // Replies wait for the client to read the previous ones: what it leaves unread stays
        // one reply deep, however many requests it pipelines.
        if (this.socket.writableNeedDrain) {
          flush();
          if (this.socket.writableNeedDrain) {
            this.reportInput(false);
            await this.connection.drained();
          }
          if (this.closed || this.connection.done) break;
        }
        const line = this.queue[this.head++] as string;
        this.queuedLength -= line.length;
        if (this.head === this.queue.length) {
          this.queue = [];
          this.head = 0;
        }
        let reply = this.options.onLine(line);
        if (reply instanceof Promise) {
          flush();
          this.reportInput(false);
          // The server's own wait (a lock, a store): not the client's idleness.
          this.connection.setAnswering(true);
          try {
            reply = await reply;
          } finally {
            this.connection.setAnswering(false);
          }
        } else if (!corked && reply !== undefined) {
          corked = true;
          this.connection.cork();
        }
        this.send(reply);
      }
      flush();
      if (!this.connection.done) this.reportInput(false);
      if (this.overflow !== undefined && !this.closed && !this.connection.done) {
        this.closed = true;
        this.connection.dismissWith(encodeLine(this.options.onOverflow(this.overflow)));
      }
    } finally {
      flush();
      this.working = false;
    }
    this.resumeIfIdle();
  }

  private resumeIfIdle(): void {
    if (this.closed || this.connection.done || this.working || this.overflow !== undefined) return;
    if (this.queued < MAX_QUEUED_LINES && !this.socket.writableNeedDrain) this.socket.resume();
  }
}
