/** The liveness check behind "no takeovers" (server/holder-probe.ts), without sockets. */
import { describe, expect, it } from 'vitest';
import { HolderProbe } from '../../server/holder-probe.ts';
import { waitSince } from '../helpers/wait.ts';

function target(options: { closed?: boolean; optedIn?: boolean } = {}) {
  const sent: number[] = [];
  return {
    sent,
    closed: options.closed ?? false,
    optedIn: options.optedIn ?? true,
    send: () => sent.push(performance.now()),
  };
}

describe('HolderProbe', () => {
  it('a closed holder is gone and a holder that never sent PING is there, both without a probe', async () => {
    const probe = new HolderProbe<number>(50);
    const closed = target({ closed: true });
    const courseClient = target({ optedIn: false });
    expect(await probe.isAlive(1, closed)).toBe(false);
    expect(await probe.isAlive(2, courseClient)).toBe(true);
    expect(closed.sent).toEqual([]);
    expect(courseClient.sent).toEqual([]);
  });

  it('a holder heard from within the timeout is there without a probe', async () => {
    const probe = new HolderProbe<number>(60_000);
    const holder = target();
    probe.heard(1);
    expect(await probe.isAlive(1, holder)).toBe(true);
    expect(holder.sent).toEqual([]);
  });

  it('is there when it answers the probe; one probe serves every check meanwhile', async () => {
    const probe = new HolderProbe<number>(60_000);
    const holder = target();
    const first = probe.isAlive(1, holder);
    const second = probe.isAlive(1, holder);
    expect(holder.sent).toHaveLength(1);
    probe.heard(1);
    expect(await Promise.all([first, second])).toEqual([true, true]);
  });

  it('is gone when nothing comes back within the timeout, or its connection closes meanwhile', async () => {
    const probe = new HolderProbe<number>(100);
    const silent = target();
    const started = performance.now();
    expect(await probe.isAlive(1, silent)).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(99);
    expect(silent.sent).toHaveLength(1);

    const slow = new HolderProbe<number>(60_000);
    const closing = slow.isAlive(2, target());
    slow.forget(2);
    expect(await closing).toBe(false);
  });

  it('a holder heard long ago is asked again', async () => {
    const probe = new HolderProbe<number>(100);
    const holder = target();
    probe.heard(1);
    const heardAt = performance.now();
    // Wait out the freshness window on the clock the probe uses, then check again.
    await waitSince(heardAt, 100, 'the holder was heard');
    const alive = probe.isAlive(1, holder);
    expect(holder.sent).toHaveLength(1);
    probe.heard(1);
    expect(await alive).toBe(true);
  });
});
