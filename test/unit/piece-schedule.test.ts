import { describe, expect, it } from 'vitest';
import { MULTI_SOURCE_RUN_PIECES, PieceSchedule } from '../../peer/transfer/piece-schedule.ts';
import {
  choosePieceSize,
  MAX_PIECE_BYTES,
  MAX_PIECES,
  MIN_PIECE_BYTES,
  pieceRange,
} from '../../shared/pieces.ts';

describe('PieceSchedule', () => {
  it('one source takes every consecutive missing piece in one run', () => {
    const schedule = new PieceSchedule([true, true, false, false, false, true, false]);
    expect(schedule.take(false)).toEqual({ first: 2, last: 4 });
    expect(schedule.take(false)).toEqual({ first: 6, last: 6 });
    expect(schedule.take(false)).toBeUndefined();
  });

  it('shared runs are at most MULTI_SOURCE_RUN_PIECES long and never overlap', () => {
    const schedule = new PieceSchedule(Array(10).fill(false));
    const a = schedule.take(true);
    const b = schedule.take(true);
    expect(a).toEqual({ first: 0, last: MULTI_SOURCE_RUN_PIECES - 1 });
    expect(b).toEqual({ first: MULTI_SOURCE_RUN_PIECES, last: 2 * MULTI_SOURCE_RUN_PIECES - 1 });
  });

  it('a failed run gives its unheld pieces back and wakes a waiting source', async () => {
    const schedule = new PieceSchedule([false, false, false]);
    const run = schedule.take(false);
    if (!run) throw new Error('expected a run');
    schedule.markHeld(0);
    expect(schedule.take(false)).toBeUndefined();
    const woken = schedule.changed();
    schedule.giveBack(run);
    expect(await woken).toBe(true);
    expect(schedule.take(true)).toEqual({ first: 1, last: 2 });
    schedule.markHeld(1);
    schedule.markHeld(2);
    expect(schedule.complete).toBe(true);
    expect(schedule.heldCount).toBe(3);
  });

  it('waiting sources are released when the last piece is held', async () => {
    const schedule = new PieceSchedule([false]);
    schedule.take(false);
    const woken = schedule.changed();
    schedule.markHeld(0);
    // Released, with nothing left to wait for.
    expect(await woken).toBe(false);
    expect(await schedule.changed()).toBe(false);
  });

  it('endgame: with nothing missing, an idle source gets one piece another is still fetching, once', () => {
    const schedule = new PieceSchedule([false, false, true]);
    expect(schedule.take(true)).toEqual({ first: 0, last: 1 });
    // Nothing missing: duplicate piece 1 (the last to arrive of the run), then 0, then nothing
    // (each is duplicated at most once).
    expect(schedule.take(true)).toEqual({ first: 1, last: 1 });
    expect(schedule.take(true)).toEqual({ first: 0, last: 0 });
    expect(schedule.take(true)).toBeUndefined();
    // A one-source download never duplicates.
    expect(new PieceSchedule([false]).take(false)).toEqual({ first: 0, last: 0 });
    schedule.markHeld(0);
    schedule.markHeld(1);
    expect(schedule.complete).toBe(true);
  });

  it('the tail is shared out: once fewer than a full run per source is missing, runs shrink', () => {
    const run = MULTI_SOURCE_RUN_PIECES;
    // Three sources, 3 full runs and 5 pieces more.
    const schedule = new PieceSchedule(Array(3 * run + 5).fill(false), 3);
    const lengths: number[] = [];
    for (
      let taken = schedule.take(true);
      taken && !schedule.isHeld(taken.first);
      taken = schedule.take(true)
    ) {
      lengths.push(taken.last - taken.first + 1);
      if (taken.last === 3 * run + 4) break;
    }
    // Each run: what is missing over the sharers, rounded up, at most a full run. 17 and 13
    // missing: full runs; then 9, 6, 4, 2 and 1 missing: 3, 2, 2, 1, 1.
    expect(lengths).toEqual([4, 4, 3, 2, 2, 1, 1]);
    expect(lengths.reduce((sum, length) => sum + length)).toBe(3 * run + 5);
    // A download by one source keeps one streamed run whatever is left.
    expect(new PieceSchedule(Array(5).fill(false), 1).take(false)).toEqual({ first: 0, last: 4 });
  });

  it("the tail's share counts only the pieces nobody holds or fetches", () => {
    // Three sources took every run (4 4 3 2 1 1 1 pieces of 16), piece 9 came, and the first run
    // failed and came back.
    const schedule = new PieceSchedule(Array(16).fill(false), 3);
    const runs = Array.from({ length: 7 }, () => schedule.take(true));
    expect(runs.map((run) => run && run.last - run.first + 1)).toEqual([4, 4, 3, 2, 1, 1, 1]);
    schedule.markHeld(9);
    schedule.giveBack(runs[0] as { first: number; last: number });
    // Four missing (0-3) for three sources: 2, then 1 and 1, not the whole run again.
    expect(schedule.take(true)).toEqual({ first: 0, last: 1 });
    expect(schedule.take(true)).toEqual({ first: 2, last: 2 });
    expect(schedule.take(true)).toEqual({ first: 3, last: 3 });
    // Pieces a resumed .part holds are not missing either.
    const resumed = new PieceSchedule([...Array(4).fill(false), ...Array(8).fill(true)], 3);
    expect(resumed.take(true)).toEqual({ first: 0, last: 1 });
  });

  it('endgame: the copy is of the piece furthest from arriving, the last of the latest run', () => {
    // One sharer: full runs to the end, so the two runs below are each 4 long.
    const schedule = new PieceSchedule(Array(8).fill(false), 1);
    expect(schedule.take(true)).toEqual({ first: 0, last: 3 });
    expect(schedule.take(true)).toEqual({ first: 4, last: 7 });
    schedule.markHeld(0);
    schedule.markHeld(4);
    // Nothing missing: 7 first (after 5 and 6 on its run), then 6; once 5 has come, 3 of the
    // other run: never a piece that was about to land (5 now, 1 before).
    expect(schedule.take(true)).toEqual({ first: 7, last: 7 });
    expect(schedule.take(true)).toEqual({ first: 6, last: 6 });
    schedule.markHeld(5);
    expect(schedule.take(true)).toEqual({ first: 3, last: 3 });
  });

  it('endgame: a failed duplicate leaves the piece with its first fetcher, not missing', () => {
    const schedule = new PieceSchedule([false]);
    const first = schedule.take(true);
    const copy = schedule.take(true);
    expect(copy).toEqual({ first: 0, last: 0 });
    if (!copy || !first) throw new Error('expected runs');
    schedule.giveBack(copy);
    expect(schedule.take(true)).toEqual({ first: 0, last: 0 });
    schedule.giveBack(first);
    schedule.giveBack(first);
    expect(schedule.take(false)).toEqual({ first: 0, last: 0 });
  });

  it('counts held bytes with a short last piece', () => {
    const schedule = new PieceSchedule([true, false, true]);
    expect(schedule.heldBytes(25, 10)).toBe(10 + 5);
  });
});

describe('piece sizes', () => {
  it('4 MiB pieces, doubled past MAX_PIECES', () => {
    expect(choosePieceSize(0)).toBe(MIN_PIECE_BYTES);
    expect(choosePieceSize(2 * 1024 ** 3)).toBe(MIN_PIECE_BYTES);
    expect(choosePieceSize(MAX_PIECES * MIN_PIECE_BYTES + 1)).toBe(2 * MIN_PIECE_BYTES);
    expect(Math.ceil((512 * 1024 ** 3) / choosePieceSize(512 * 1024 ** 3))).toBeLessThanOrEqual(MAX_PIECES);
    // Past 512 GiB the piece size stops growing (memory) and the count grows instead.
    expect(choosePieceSize(1024 ** 4)).toBe(MAX_PIECE_BYTES);
    expect(pieceRange(2, 10, 4)).toEqual({ start: 8, end: 10 });
  });
});

/** Whether `promise` settled before the event loop's next turn (resolved with what). */
async function settledAtOnce<T>(promise: Promise<T>): Promise<{ settled: boolean; value?: T }> {
  let result: { settled: boolean; value?: T } = { settled: false };
  void promise.then((value) => {
    result = { settled: true, value };
  });
  await new Promise((resolve) => setImmediate(resolve));
  return result;
}

describe('PieceSchedule in detail', () => {
  it('knows which pieces are held, each counted once', () => {
    const schedule = new PieceSchedule([true, false, false]);
    expect([0, 1, 2].map((i) => schedule.isHeld(i))).toEqual([true, false, false]);
    schedule.markHeld(1);
    schedule.markHeld(1);
    expect(schedule.heldCount).toBe(2);
    expect(schedule.complete).toBe(false);
    expect(schedule.isHeld(1)).toBe(true);
  });

  it('counts held bytes: a short last piece only when it is held', () => {
    expect(new PieceSchedule([true, true, false]).heldBytes(25, 10)).toBe(20);
    expect(new PieceSchedule([false, false, true]).heldBytes(25, 10)).toBe(5);
    expect(new PieceSchedule([true]).heldBytes(7, 10)).toBe(7);
    expect(new PieceSchedule([true, true]).heldBytes(20, 10)).toBe(20);
    expect(new PieceSchedule([]).heldBytes(0, 10)).toBe(0);
  });

  it('wakes waiting sources only when pieces come back or the file is complete', async () => {
    const schedule = new PieceSchedule([false, false]);
    const run = schedule.take(false);
    if (!run) throw new Error('expected a run');
    const waiting = schedule.changed();
    schedule.markHeld(0);
    expect((await settledAtOnce(waiting)).settled).toBe(false);
    schedule.markHeld(1);
    expect(await settledAtOnce(waiting)).toEqual({ settled: true, value: false });
  });

  it('does not keep a source waiting when no piece is on its way', async () => {
    const schedule = new PieceSchedule([false, false, true]);
    // Nothing is being fetched: whatever is missing is for the taking now.
    expect(await settledAtOnce(schedule.changed())).toEqual({ settled: true, value: true });
    const run = schedule.take(true);
    expect(run).toEqual({ first: 0, last: 1 });
    // Pieces are on their way: wait for them (or for them to come back).
    expect((await settledAtOnce(schedule.changed())).settled).toBe(false);
  });

  it('waits while one piece is on its way even if another is missing and free', async () => {
    const schedule = new PieceSchedule([false, false]);
    const run = schedule.take(true);
    if (!run) throw new Error('expected a run');
    // Piece 0 in flight, piece 1 missing but in flight too; give back only what is past piece 0.
    schedule.giveBack({ first: 1, last: 1 });
    expect((await settledAtOnce(schedule.changed())).settled).toBe(false);
  });

  it('a run given back twice is free once, not "less than free"', () => {
    const schedule = new PieceSchedule([false]);
    const run = schedule.take(false);
    if (!run) throw new Error('expected a run');
    schedule.giveBack(run);
    schedule.giveBack(run);
    expect(schedule.take(false)).toEqual({ first: 0, last: 0 });
    expect(schedule.take(false)).toBeUndefined();
  });
});
