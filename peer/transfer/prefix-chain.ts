/**
 * Verifying by prefix hashes (peer/transfer/expected-hashes.ts), the running SHA-256 of the file
 * at the end of its verified pieces. Pieces may finish (verified and written) out of order, two
 * at once; the chain moves past each only once every piece before it has, so that a range that
 * starts again after a failure continues from the right state. Pure state, tested alone: any
 * running hash that can be copied will do (the download's are thread-hash.ts's). States it no
 * longer needs are dropped (a thread's hashes are held until then).
 */
import { NapError } from '../../shared/errors.ts';

export interface HashState<S> {
  copy(): S;
  forget?(): void;
}

export class PrefixChain<S extends HashState<S>> {
  /** Pieces 0..end-1 are verified; `at` is the running hash after them. */
  private end = 0;
  /** States after pieces verified past `end`, until the ones before them are. */
  private readonly ahead = new Map<number, S>();

  constructor(private at: S) {}

  /** Piece `index` verified; `state` is the running hash at its end. */
  verified(index: number, state: S): void {
    if (index < this.end || this.ahead.has(index)) {
      state.forget?.();
      return;
    }
    this.ahead.set(index, state);
    for (let next = this.ahead.get(this.end); next; next = this.ahead.get(this.end)) {
      this.ahead.delete(this.end);
      this.at.forget?.();
      this.at = next;
      this.end++;
    }
  }

  /** The download is over: every state it holds is let go (a thread's hashes are held until then). */
  dispose(): void {
    this.at.forget?.();
    for (const state of this.ahead.values()) state.forget?.();
    this.ahead.clear();
  }

  /** A copy of the running hash at piece `index`'s start: the first piece not verified yet. */
  from(index: number): S {
    if (index !== this.end)
      throw new NapError(
        'PROTOCOL',
        `Piece ${index} cannot be checked by prefix hashes before piece ${this.end}.`,
      );
    return this.at.copy();
  }
}
