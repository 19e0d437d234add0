/**
 * The chat peer's console. On a terminal: a readline prompt, and every line printed while the user
 * types (a relayed message, a notice) is written above the prompt, which is then redrawn with the
 * half-typed text intact. With piped stdin: one command a line, each finished before the next
 * starts, so a script's output is deterministic; end of input waits for the last reply.
 * Every line is written through terminal-text.ts: relayed messages and answers hold what other
 * peers and the server sent.
 */
import readline from 'node:readline';
import { terminalLine } from '../../shared/terminal-text.ts';

/** The prompt shown on a terminal. */
const PROMPT = '> ';

export class ChatConsole {
  private readonly lines: readline.Interface;
  // Taken at once: lines that arrive while the peer is still joining are buffered, not lost.
  private readonly typed: AsyncIterator<string>;
  private closed = false;

  constructor(
    input: NodeJS.ReadableStream,
    private readonly stdout: NodeJS.WritableStream,
    private readonly stderr: NodeJS.WritableStream,
    readonly terminal: boolean,
  ) {
    this.lines = readline.createInterface({
      input,
      output: terminal ? stdout : undefined,
      terminal,
      prompt: PROMPT,
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    // Ctrl+C at the prompt leaves like /quit (readline would otherwise only pause).
    this.lines.on('SIGINT', () => this.close());
    this.lines.on('close', () => {
      this.closed = true;
    });
    this.typed = this.lines[Symbol.asyncIterator]();
  }

  /** Typed lines, one at a time; ends at end of input, Ctrl+C/Ctrl+D, or close(). */
  async *read(): AsyncGenerator<string> {
    if (this.terminal) this.lines.prompt();
    for (;;) {
      const next = await this.typed.next();
      if (next.done) return;
      yield next.value;
      if (this.terminal && !this.closed) this.lines.prompt();
    }
  }

  /** A line for the user on stdout (a message, a command's answer). */
  print(line: string): void {
    this.write(this.stdout, line);
  }

  /** A notice or an error sentence on stderr. */
  error(line: string): void {
    this.write(this.stderr, line);
  }

  /** Stops reading. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lines.close();
  }

  private write(stream: NodeJS.WritableStream, line: string): void {
    if (!this.terminal || this.closed) {
      stream.write(terminalLine(line));
      return;
    }
    // Erase the prompt line, print above it, then redraw the prompt and what was being typed.
    readline.cursorTo(this.stdout, 0);
    readline.clearLine(this.stdout, 0);
    stream.write(terminalLine(line));
    this.lines.prompt(true);
  }
}
