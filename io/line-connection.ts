/**
 * One client of a line-based JSON server: reads `\n`-terminated lines with a bound, hands them to
 * a handler one at a time (so replies go out in request order), and writes replies. Reading
 * pauses while requests pile up or the client does not read its replies, so a fast or stuck
 * client costs bounded memory and never disturbs the others. The connection's guard
 * (connection-guard.ts) sees its input (unfinished-line deadline, the server's input budget) and
 * bounds its unread output.
 */
import { NapError } from '../shared/errors.ts';
import { encodeLine } from '../shared/json-line.ts';
import { LineSplitter } from '../shared/line-splitter.ts';
import type { GuardedConnection } from './connection-guard.ts';

/** Lines read ahead of the handler before reading pauses: enough to pipeline, bounded memory. */
const MAX_QUEUED_LINES = 64;

export interface LineConnectionOptions {
  maxLineBytes: number;
  /** Handles one line; the returned message (if any) is the reply. Throwing is not expected. */
  onLine: (line: string) => Promise<object | undefined>;
  /** The reply to a line over the bound; the connection closes after it. */
  onOverflow: (error: NapError) => object;
  onClose?: () => void;
}

export class LineConnection {
  private readonly splitter: LineSplitter;
  private readonly queue: string[] = [];
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
      this.queue.length = 0;
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
  send(message: object): void {
    if (this.closed || this.connection.done) return;
    if (!this.connection.write(encodeLine(message))) return;
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
    const before = this.queue.length;
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
    const completed = this.queue.length > before;
    if (completed) this.connection.requestSeen();
    const partial = this.overflow === undefined ? this.splitter.bufferedBytes : 0;
    this.connection.input(partial + this.queuedLength, partial > 0, completed);
    if (this.connection.done) return;
    if (this.queue.length >= MAX_QUEUED_LINES) this.socket.pause();
    void this.work();
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (this.queue.length > 0 && !this.closed && !this.connection.done) {
        // Replies wait for the client to read the previous ones: what it leaves unread stays
        // one reply deep, however many requests it pipelines.
        if (this.socket.writableNeedDrain) await this.connection.drained();
        if (this.closed || this.connection.done) break;
        const line = this.queue.shift() as string;
        this.queuedLength -= line.length;
        const reply = await this.options.onLine(line);
        if (reply !== undefined) this.send(reply);
        const partial = this.overflow === undefined ? this.splitter.bufferedBytes : 0;
        this.connection.input(partial + this.queuedLength, partial > 0, false);
      }
      if (this.overflow !== undefined && !this.closed && !this.connection.done) {
        this.closed = true;
        this.connection.dismissWith(encodeLine(this.options.onOverflow(this.overflow)));
      }
    } finally {
      this.working = false;
    }
    this.resumeIfIdle();
  }

  private resumeIfIdle(): void {
    if (this.closed || this.connection.done || this.working || this.overflow !== undefined) return;
    if (this.queue.length < MAX_QUEUED_LINES && !this.socket.writableNeedDrain) this.socket.resume();
  }
}
