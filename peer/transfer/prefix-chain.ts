/**
 * Verifying by prefix hashes (peer/transfer/expected-hashes.ts), the running SHA-256 of the file
 * at the end of its verified pieces. Pieces may finish (verified and written) out of order, two
 * at once; the chain moves past each only once every piece before it has, so that a range that
 * starts again after a failure continues from the right state. Pure state, tested alone.
 */
import type { Hash } from 'node:crypto';
import { NapError } from '../../shared/errors.ts';

export class PrefixChain {
  /** Pieces 0..end-1 are verified; `at` is the running hash after them. */
  private end = 0;
  /** States after pieces verified past `end`, until the ones before them are. */
  private readonly ahead = new Map<number, Hash>();

  constructor(private at: Hash) {}

  /** Piece `index` verified; `state` is the running hash at its end. */
  verified(index: number, state: Hash): void {
    if (index < this.end) return;
    this.ahead.set(index, state);
    for (let next = this.ahead.get(this.end); next; next = this.ahead.get(this.end)) {
      this.ahead.delete(this.end);
      this.at = next;
      this.end++;
    }
  }

  /** A copy of the running hash at piece `index`'s start: the first piece not verified yet. */
  from(index: number): Hash {
    if (index !== this.end)
      throw new NapError(
        'PROTOCOL',
        `Piece ${index} cannot be checked by prefix hashes before piece ${this.end}.`,
      );
    return this.at.copy();
  }
}
