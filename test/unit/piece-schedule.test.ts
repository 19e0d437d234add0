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
    // Nothing missing: duplicate piece 0, then 1, then nothing (each is duplicated at most once).
    expect(schedule.take(true)).toEqual({ first: 0, last: 0 });
    expect(schedule.take(true)).toEqual({ first: 1, last: 1 });
    expect(schedule.take(true)).toBeUndefined();
    // A one-source download never duplicates.
    expect(new PieceSchedule([false]).take(false)).toEqual({ first: 0, last: 0 });
    schedule.markHeld(0);
    schedule.markHeld(1);
    expect(schedule.complete).toBe(true);
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
