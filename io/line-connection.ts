/**
 * One client of a line-based JSON server: reads `\n`-terminated lines with a bound, hands them to
 * a handler one at a time (so replies go out in request order), and writes replies. Reading
 * pauses while requests pile up or the client does not read its replies, so a fast or stuck
 * client costs bounded memory and never disturbs the others.
 */
import type { Socket } from 'node:net';
import { NapError } from '../shared/errors.ts';
import { encodeLine } from '../shared/json-line.ts';
import { LineSplitter } from '../shared/line-splitter.ts';

/** Lines read ahead of the handler before reading pauses: enough to pipeline, bounded memory. */
const MAX_QUEUED_LINES = 64;
/**
 * Reply bytes a client may leave unread before it is cut off: a SEARCH/LIST reply or a burst of
 * pushed messages fits many times over; past this the client is not reading at all.
 */
const MAX_UNREAD_REPLY_BYTES = 16 * 1024 * 1024;

/** How long a client cut off for an oversized line may take to close its side. */
const LINGER_AFTER_ERROR_MS = 5000;

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
  private working = false;
  private closed = false;
  private overflow: NapError | undefined;

  constructor(
    readonly socket: Socket,
    private readonly options: LineConnectionOptions,
  ) {
    this.splitter = new LineSplitter(options.maxLineBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.resumeIfIdle());
    // A reset or a write to a vanished client is that client's end, nobody else's.
    socket.on('error', () => this.close());
    socket.on('close', () => {
      this.closed = true;
      this.options.onClose?.();
    });
  }

  /** Sends one message (a reply, or a message the server pushes). */
  send(message: object): void {
    if (this.closed || this.socket.destroyed) return;
    if (this.socket.writableLength > MAX_UNREAD_REPLY_BYTES) {
      this.close();
      return;
    }
    // The client reads slower than it asks: stop reading its requests until it catches up.
    if (!this.socket.write(encodeLine(message))) this.socket.pause();
  }

  /** Closes the connection at once. Idempotent. */
  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.overflow !== undefined) return;
    try {
      let line = this.splitter.shift(chunk);
      while (line !== null) {
        this.queue.push(line);
        line = this.splitter.shift();
      }
    } catch (error) {
      if (!(error instanceof NapError)) throw error;
      // The lines before the oversized one are still answered, in order, then the error.
      this.overflow = error;
      this.socket.pause();
    }
    if (this.queue.length >= MAX_QUEUED_LINES) this.socket.pause();
    void this.work();
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const reply = await this.options.onLine(this.queue.shift() as string);
        if (reply !== undefined) this.send(reply);
      }
      if (this.overflow !== undefined && !this.closed) {
        this.send(this.options.onOverflow(this.overflow));
        this.closed = true;
        this.socket.end();
        // Keep reading (and dropping) what the client still sends: closing with unread bytes
        // would reset the connection and could destroy the error reply before it is read.
        this.socket.resume();
        const linger = setTimeout(() => this.socket.destroy(), LINGER_AFTER_ERROR_MS).unref();
        this.socket.once('close', () => clearTimeout(linger));
      }
    } finally {
      this.working = false;
    }
    this.resumeIfIdle();
  }

  private resumeIfIdle(): void {
    if (this.closed || this.working || this.overflow !== undefined) return;
    if (this.queue.length < MAX_QUEUED_LINES && !this.socket.writableNeedDrain) this.socket.resume();
  }
}
