/**
 * Which pieces of a download are held, being fetched, or still missing; hands out runs of
 * consecutive missing pieces to the sources. Pure state (no sockets), so it is tested alone.
 *
 * The tail (several sources): once fewer pieces are missing than a full run for each source,
 * runs shrink so that the last ones are shared out, not left to the one source that took the
 * last full run while the others wait.
 *
 * Endgame (several sources): when nothing is missing but pieces are still on their way from a
 * slow source, an idle source fetches one of them too, and the first verified copy wins. Without
 * it, one source trickling bytes would hold the whole download back. It takes the piece furthest
 * from arriving: the highest one in flight, the last of the latest run (runs are handed out in
 * order and each comes in order), so the copy is seldom raced and wasted against a piece that
 * was about to land (docs/performance.md, "Multi-source").
 */

/**
 * Pieces per request when several sources share a file: 4 x 4 MiB keeps every source busy, with
 * little to redo when one of them fails and the slowest one's last run short.
 */
export const MULTI_SOURCE_RUN_PIECES = 4;

/** Consecutive pieces `first`..`last` (inclusive). */
export interface Run {
  first: number;
  last: number;
}

export class PieceSchedule {
  private readonly held: boolean[];
  /** Sources fetching each piece now: 0 (missing), 1, or 2 (duplicated in the endgame). */
  private readonly fetchers: number[];
  private heldTotal = 0;
  private waiters: (() => void)[] = [];

  /**
   * @param have the pieces already held (a resumed `.part`)
   * @param sharers how many sources share the download (the tail's runs are split among them)
   */
  constructor(
    have: readonly boolean[],
    private readonly sharers = 1,
  ) {
    this.held = [...have];
    this.fetchers = have.map(() => 0);
    this.heldTotal = have.filter(Boolean).length;
  }

  get complete(): boolean {
    return this.heldTotal === this.held.length;
  }

  get heldCount(): number {
    return this.heldTotal;
  }

  isHeld(index: number): boolean {
    return this.held[index] === true;
  }

  heldBytes(fileSize: number, pieceSize: number): number {
    const last = this.held.length - 1;
    let bytes = this.heldTotal * pieceSize;
    if (last >= 0 && this.held[last]) bytes -= last * pieceSize + pieceSize - fileSize;
    return bytes;
  }

  /**
   * The first missing run, marked as being fetched: when `shared`, up to MULTI_SOURCE_RUN_PIECES
   * pieces, fewer in the tail (the missing pieces split among the sharers, at least one each);
   * else every consecutive missing piece (one streamed request). When nothing is missing and
   * `shared`, one piece another source is still fetching (the endgame). Undefined when there is
   * nothing to do.
   */
  take(shared: boolean): Run | undefined {
    const first = this.held.findIndex((held, i) => !held && this.fetchers[i] === 0);
    if (first === -1) return shared ? this.duplicate() : undefined;
    let last = first;
    const limit = shared ? first + this.runPieces(first) - 1 : this.held.length - 1;
    while (last < limit && !this.held[last + 1] && this.fetchers[last + 1] === 0) last++;
    for (let i = first; i <= last; i++) this.fetchers[i] = 1;
    return { first, last };
  }

  markHeld(index: number): void {
    if (this.held[index]) return;
    this.held[index] = true;
    this.heldTotal++;
    if (this.complete) this.notify();
  }

  /** A run's fetch ended: its pieces not held are free again (missing, unless another fetches them). */
  giveBack(run: Run): void {
    for (let i = run.first; i <= run.last; i++) {
      if (!this.held[i] && (this.fetchers[i] as number) > 0)
        this.fetchers[i] = (this.fetchers[i] as number) - 1;
    }
    this.notify();
  }

  /**
   * Resolves when pieces come back (a source failed) or the file is complete; a source with no
   * run waits on it. False when nothing is left to wait for.
   */
  changed(): Promise<boolean> {
    if (this.complete) return Promise.resolve(false);
    if (!this.fetchers.some((count, i) => count > 0 && !this.held[i])) return Promise.resolve(true);
    return new Promise((resolve) => this.waiters.push(() => resolve(!this.complete)));
  }

  /** A shared run's length from `first`: a full run, or the tail's share of what is missing. */
  private runPieces(first: number): number {
    let missing = 0;
    for (let i = first; i < this.held.length && missing < MULTI_SOURCE_RUN_PIECES * this.sharers; i++)
      if (!this.held[i] && this.fetchers[i] === 0) missing++;
    return Math.min(MULTI_SOURCE_RUN_PIECES, Math.ceil(missing / this.sharers));
  }

  private duplicate(): Run | undefined {
    const index = this.held.findLastIndex((held, i) => !held && this.fetchers[i] === 1);
    if (index === -1) return undefined;
    this.fetchers[index] = 2;
    return { first: index, last: index };
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
