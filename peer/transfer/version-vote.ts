/**
 * The vote on which version of a file to fetch when several sources give their piece hashes: the
 * one most sources hold, ties to the first listed. It is decided as soon as no answer still to
 * come could change it: when one version is held by more than half of the sources asked (all the
 * others together are fewer), or once every source has answered or failed. So a source slow or
 * silent at INFO holds nothing back once a majority agrees, and the version chosen is always the
 * one that waiting for every answer would choose.
 * Pure state: tested without sockets.
 */

export interface VoteWinner<T> {
  /** What identifies the version (size, SHA-256, piece size). */
  key: string;
  /** The first listed holder's answer. */
  value: T;
  /** The holders that answered so far, by their index in the list, in list order. */
  members: number[];
}

type Ballot<T> = { key: string; value: T } | { error: unknown };

export class VersionVote<T> {
  private readonly ballots: (Ballot<T> | undefined)[];
  private counted = 0;

  /** @param total how many sources were asked */
  constructor(private readonly total: number) {
    this.ballots = new Array<Ballot<T> | undefined>(total).fill(undefined);
  }

  /** Source `index` answered with version `key`. A source votes once; a second answer is ignored. */
  answer(index: number, key: string, value: T): void {
    this.cast(index, { key, value });
  }

  /** Source `index` failed: it holds no version. */
  fail(index: number, error: unknown): void {
    this.cast(index, { error });
  }

  /** Every source has answered or failed. */
  get complete(): boolean {
    return this.counted === this.total;
  }

  /** Source `index`'s answer: its version, its failure, or undefined while it is still asked. */
  ballot(index: number): Ballot<T> | undefined {
    return this.ballots[index];
  }

  /** The failures so far, in list order. */
  failures(): unknown[] {
    const errors: unknown[] = [];
    for (const ballot of this.ballots)
      if (ballot !== undefined && 'error' in ballot) errors.push(ballot.error);
    return errors;
  }

  /**
   * The version to fetch once it is decided: held by more than half of all the sources asked,
   * or the most held (ties to the first listed) once every source has answered. `null`: every
   * source failed. Undefined: not decided yet.
   */
  decision(): VoteWinner<T> | null | undefined {
    const groups = new Map<string, VoteWinner<T>>();
    let best: VoteWinner<T> | undefined;
    this.ballots.forEach((ballot, index) => {
      if (ballot === undefined || 'error' in ballot) return;
      let group = groups.get(ballot.key);
      if (!group) {
        group = { key: ballot.key, value: ballot.value, members: [] };
        groups.set(ballot.key, group);
      }
      group.members.push(index);
    });
    // Groups in the order of their first holder: of two as large, the one listed first.
    for (const group of groups.values())
      if (!best || group.members.length > best.members.length) best = group;
    if (best && best.members.length * 2 > this.total) return best;
    if (!this.complete) return undefined;
    return best ?? null;
  }

  /** The versions other than `key` that sources answered, each with its holders in list order. */
  others(key: string): VoteWinner<T>[] {
    const groups = new Map<string, VoteWinner<T>>();
    this.ballots.forEach((ballot, index) => {
      if (ballot === undefined || 'error' in ballot || ballot.key === key) return;
      const group = groups.get(ballot.key) ?? { key: ballot.key, value: ballot.value, members: [] };
      group.members.push(index);
      groups.set(ballot.key, group);
    });
    return [...groups.values()];
  }

  private cast(index: number, ballot: Ballot<T>): void {
    if (index < 0 || index >= this.total || this.ballots[index] !== undefined) return;
    this.ballots[index] = ballot;
    this.counted++;
  }
}
