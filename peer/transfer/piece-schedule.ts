/**
 * Which pieces of a download are held, being fetched, or still missing; hands out runs of
 * consecutive missing pieces to the sources. Pure state (no sockets), so it is tested alone.
 */

/** Pieces per request when several sources share a file: 4 x 4 MiB keeps every source busy with
 * little left to redo when one of them fails, and the slowest one's last run short. */
export const MULTI_SOURCE_RUN_PIECES = 4;

/** Consecutive pieces `first`..`last` (inclusive). */
export interface Run {
  first: number;
  last: number;
}

type State = 'missing' | 'fetching' | 'held';

export class PieceSchedule {
  private readonly states: State[];
  private held = 0;
  private fetching = 0;
  private waiters: (() => void)[] = [];

  constructor(have: readonly boolean[]) {
    this.states = have.map((h) => (h ? 'held' : 'missing'));
    this.held = have.filter(Boolean).length;
  }

  get complete(): boolean {
    return this.held === this.states.length;
  }

  get heldCount(): number {
    return this.held;
  }

  heldBytes(fileSize: number, pieceSize: number): number {
    const last = this.states.length - 1;
    let bytes = this.held * pieceSize;
    if (last >= 0 && this.states[last] === 'held') bytes -= last * pieceSize + pieceSize - fileSize;
    return bytes;
  }

  /**
   * The first missing run, marked as being fetched: up to MULTI_SOURCE_RUN_PIECES pieces when
   * `shared`, else every consecutive missing piece (one streamed request). Undefined when none.
   */
  take(shared: boolean): Run | undefined {
    const first = this.states.indexOf('missing');
    if (first === -1) return undefined;
    let last = first;
    const limit = shared ? first + MULTI_SOURCE_RUN_PIECES - 1 : this.states.length - 1;
    while (last < limit && this.states[last + 1] === 'missing') last++;
    for (let i = first; i <= last; i++) this.states[i] = 'fetching';
    this.fetching += last - first + 1;
    return { first, last };
  }

  markHeld(index: number): void {
    if (this.states[index] === 'held') return;
    if (this.states[index] === 'fetching') this.fetching--;
    this.states[index] = 'held';
    this.held++;
    if (this.fetching === 0) this.notify();
  }

  /** A run's fetch ended early: its pieces not held are missing again, for any source. */
  giveBack(run: Run): void {
    for (let i = run.first; i <= run.last; i++) {
      if (this.states[i] !== 'fetching') continue;
      this.states[i] = 'missing';
      this.fetching--;
    }
    this.notify();
  }

  /**
   * Resolves when pieces come back (a source failed) or nothing is being fetched any more; a
   * source with no run waits on it. False when nothing is left to wait for.
   */
  changed(): Promise<boolean> {
    if (this.fetching === 0) return Promise.resolve(!this.complete && this.states.includes('missing'));
    return new Promise((resolve) => this.waiters.push(() => resolve(true)));
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
