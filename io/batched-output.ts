/**
 * Text for one output stream (the index server's stdout) gathered and written together once per
 * turn of the event loop: a server answering 100,000 SEARCHes a second prints as many lines, and
 * one write each would cost a system call each (stdout to a file or a pipe is written
 * synchronously). Lines keep the order they were pushed in and none is dropped: what is pushed
 * in a turn is written at the end of it (setImmediate), sooner past MAX_BATCH_CHARS, and
 * `flush()` writes the rest at once (on exit).
 */

/**
 * Characters gathered before they are written without waiting for the end of the turn: a turn
 * that prints a lot (many 1 MiB JOIN lines) holds at most about this much.
 */
export const MAX_BATCH_CHARS = 256 * 1024;

export class BatchedOutput {
  private parts: string[] = [];
  private chars = 0;
  private scheduled = false;

  /** @param write writes text to the stream (e.g. `(text) => process.stdout.write(text)`). */
  constructor(private readonly write: (text: string) => void) {}

  /** Queues `text` (whole lines, with their newlines) to be written in order. */
  push(text: string): void {
    this.parts.push(text);
    this.chars += text.length;
    if (this.chars >= MAX_BATCH_CHARS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Writes everything queued now, in one write. */
  flush(): void {
    if (this.parts.length === 0) return;
    const text = this.parts.length === 1 ? (this.parts[0] as string) : this.parts.join('');
    this.parts = [];
    this.chars = 0;
    this.write(text);
  }

  /** Characters queued and not written yet. */
  get pendingChars(): number {
    return this.chars;
  }
}
