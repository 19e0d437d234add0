/**
 * A budget of lines per second for what other machines make us print. The first `perWindow`
 * lines of each window (a second by default) are printed; the rest are counted and told in one
 * summary line when the window ends. A flood (thousands of offers, of malformed datagrams) then
 * costs at most perWindow + 1 lines a window, and the reader still learns how much was not shown.
 */
export interface LineBudgetOptions {
  /** Lines printed per window; the rest are summarised. */
  perWindow: number;
  windowMs?: number;
  print: (line: string) => void;
  /** The summary line for `hidden` lines not printed in a window. */
  summarise: (hidden: number) => string;
  now?: () => number;
}

export const DEFAULT_BUDGET_WINDOW_MS = 1000;

export class LineBudget {
  private readonly windowMs: number;
  private readonly now: () => number;
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;
  private hidden = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LineBudgetOptions) {
    this.windowMs = options.windowMs ?? DEFAULT_BUDGET_WINDOW_MS;
    this.now = options.now ?? (() => performance.now());
  }

  /** Prints `line` if the window has room left; else counts it. True when it was printed. */
  offer(line: string): boolean {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.flush();
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used < this.options.perWindow) {
      this.used++;
      this.options.print(line);
      return true;
    }
    this.hidden++;
    // The summary comes when the window ends, even if nothing else arrives after the flood.
    this.timer ??= setTimeout(() => this.flush(), this.windowStart + this.windowMs - now);
    this.timer.unref();
    return false;
  }

  /** Prints the summary of the lines not shown so far, if any. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.hidden === 0) return;
    const hidden = this.hidden;
    this.hidden = 0;
    this.options.print(this.options.summarise(hidden));
  }
}
