/**
 * When the peer table is printed: at once when it changes after a quiet interval, otherwise once
 * at the end of the interval, whatever changed meanwhile (a flood of newcomers makes one table,
 * not one per newcomer). The interval is the Hello interval, once a second by default: the table
 * changes mostly at Hello ticks, and a person reads it at that pace. Each print is the whole table
 * as it is at that moment, in the format of table-format.ts.
 */
export class TablePrinter {
  private lastPrintAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly print: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The table changed: print it now, or at the end of the current interval. */
  changed(): void {
    if (this.closed || this.timer !== undefined) return;
    const wait = this.lastPrintAt + this.intervalMs - this.now();
    if (wait <= 0) {
      this.printNow();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.printNow();
    }, wait);
    this.timer.unref();
  }

  /** Prints a change still waiting for its interval, then prints nothing more. */
  close(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.printNow();
    }
    this.closed = true;
  }

  private printNow(): void {
    this.lastPrintAt = this.now();
    this.print();
  }
}
