/**
 * Where the LAN mode's lines go, so that messages arriving at any time never break what a person
 * is typing: while a prompt is open the lines are held and shown as soon as it closes; a prompt
 * with nothing typed yet (the menu) may instead be interrupted to show them at once.
 */
import { terminalLine } from '../../shared/terminal-text.ts';

/**
 * Lines held at most while a prompt is open: a person types for seconds, not hours; a chatty
 * group beyond this loses its oldest lines (and is told how many).
 */
export const MAX_HELD_LINES = 1000;

type Stream = 'stdout' | 'stderr';

export class ConsoleGate {
  private held: { stream: Stream; line: string }[] | undefined;
  private dropped = 0;
  private onHeld: (() => void) | undefined;

  constructor(
    // terminal-text.ts: chat lines, offers and errors hold what other members sent.
    private readonly write: (stream: Stream, line: string) => void = (stream, line) =>
      process[stream].write(terminalLine(line)),
  ) {}

  stdout(line: string): void {
    this.print('stdout', line);
  }

  stderr(line: string): void {
    this.print('stderr', line);
  }

  /** Holds lines from now on; `onHeld` runs when one arrives (e.g. to close an idle prompt). */
  hold(onHeld?: () => void): void {
    this.held ??= [];
    this.onHeld = onHeld;
    if (onHeld && this.held.length > 0) onHeld();
  }

  /** Shows the held lines, in order, and lets the next ones through. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.onHeld = undefined;
    if (this.dropped > 0)
      this.write('stderr', `(${this.dropped} earlier lines were dropped while you typed)`);
    this.dropped = 0;
    for (const { stream, line } of held) this.write(stream, line);
  }

  get holding(): boolean {
    return this.held !== undefined;
  }

  private print(stream: Stream, line: string): void {
    if (!this.held) {
      this.write(stream, line);
      return;
    }
    this.held.push({ stream, line });
    if (this.held.length > MAX_HELD_LINES) {
      this.held.shift();
      this.dropped++;
    }
    this.onHeld?.();
  }
}
