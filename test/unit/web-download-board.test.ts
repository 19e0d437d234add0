/** The web page's downloads and speed chart as pure state, on an injected clock. */
import { describe, expect, it } from 'vitest';
import { DownloadBoard, MAX_ENDED_DOWNLOADS, SPEED_WINDOW_MS } from '../../peer/web/download-board.ts';
import { SPEED_SAMPLES, SpeedHistory } from '../../peer/web/speed-history.ts';

const MB = 1_000_000;

function clock() {
  const time = { now: 1_000_000 };
  return { time, now: () => time.now };
}

describe('DownloadBoard', () => {
  it('measures speed over the window, an ETA at that speed, and what a resume started from', () => {
    const { time, now } = clock();
    const board = new DownloadBoard(now);
    const id = board.add('a.bin', 'all');
    // The first report of an attempt is its start: 4 MB already held (a resumed .part).
    board.progress(id, { done: 4 * MB, total: 24 * MB, sources: 2, verifiedPieces: 1, pieceCount: 6 });
    expect(board.get(id)).toMatchObject({ resumedFrom: 4 * MB, speed: 0, etaSeconds: null });
    time.now += 1000;
    board.progress(id, { done: 6 * MB, total: 24 * MB, sources: 2, verifiedPieces: 1, pieceCount: 6 });
    expect(board.get(id)).toMatchObject({ speed: 2 * MB, etaSeconds: 9, sources: 2, verifiedPieces: 1 });
    time.now += 1000;
    board.progress(id, { done: 10 * MB, total: 24 * MB, sources: 1, verifiedPieces: 2, pieceCount: 6 });
    expect(board.get(id)?.speed).toBe(3 * MB);
    expect(board.get(id)?.etaSeconds).toBe(5);
    // Samples older than the window no longer count: the speed follows the last seconds.
    time.now += SPEED_WINDOW_MS;
    board.progress(id, { done: 13 * MB, total: 24 * MB, sources: 1, verifiedPieces: 3, pieceCount: 6 });
    expect(board.get(id)?.speed).toBe(1 * MB);
    // The chart counts only bytes that arrived, not the 4 MB the .part held.
    expect(board.bytesReceived).toBe(9 * MB);
  });

  it('a download ends done, failed or cancelled; only those that did not finish can be resumed', () => {
    const board = new DownloadBoard(clock().now);
    const done = board.add('a.bin', '127.0.0.1:8776');
    board.succeeded(done, { size: 5, sha256: 'ab', verified: true });
    expect(board.get(done)).toMatchObject({
      status: 'done',
      done: 5,
      total: 5,
      sha256: 'ab',
      verified: true,
    });
    expect(board.restart(done)).toBe(false);
    const cancelled = board.add('b.bin', 'all');
    board.failed(cancelled, { code: 'CANCELLED', message: 'The download of b.bin was cancelled.' }, true);
    expect(board.get(cancelled)).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expect(board.runningCount).toBe(0);
    expect(board.restart(cancelled)).toBe(true);
    expect(board.get(cancelled)).toMatchObject({
      status: 'running',
      attempts: 2,
      error: null,
      resumedFrom: null,
    });
    expect(board.runningCount).toBe(1);
    // Newest (or resumed) first.
    expect(board.list().map((view) => view.file)).toEqual(['b.bin', 'a.bin']);
    // A running download cannot be restarted, and reports after its end change nothing.
    expect(board.restart(cancelled)).toBe(false);
    board.failed(cancelled, { code: 'TRUNCATED', message: 'cut' }, false);
    board.progress(cancelled, { done: 3, total: 9, sources: 1 });
    expect(board.get(cancelled)).toMatchObject({ status: 'failed', done: 0, speed: 0 });
  });

  it('keeps at most MAX_ENDED_DOWNLOADS ended downloads, dropping the oldest, never a running one', () => {
    const board = new DownloadBoard(clock().now);
    const running = board.add('running.bin', 'all');
    const ids: number[] = [];
    for (let i = 0; i < MAX_ENDED_DOWNLOADS + 5; i++) {
      const id = board.add(`f${i}.bin`, 'all');
      board.failed(id, { code: 'NOT_FOUND', message: 'gone' }, false);
      ids.push(id);
    }
    expect(board.list()).toHaveLength(MAX_ENDED_DOWNLOADS + 1);
    expect(board.get(running)?.status).toBe('running');
    expect(ids.slice(0, 5).map((id) => board.get(id))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(board.get(ids[5] as number)).toBeDefined();
  });
});

describe('SpeedHistory', () => {
  it('one sample a call, bytes per second since the previous one, the last minute kept', () => {
    const history = new SpeedHistory();
    history.sample(0, 0);
    expect(history.values).toEqual([]);
    history.sample(2 * MB, 1000);
    history.sample(3 * MB, 1500);
    expect(history.values).toEqual([2 * MB, 2 * MB]);
    // After a pause the next call starts a new measure instead of averaging the quiet gap in.
    history.pause();
    history.sample(10 * MB, 60_000);
    history.sample(11 * MB, 61_000);
    expect(history.values).toEqual([2 * MB, 2 * MB, 1 * MB]);
    for (let i = 1; i <= SPEED_SAMPLES + 10; i++) history.sample(11 * MB + i * MB, 61_000 + i * 1000);
    expect(history.values).toHaveLength(SPEED_SAMPLES);
  });
});
