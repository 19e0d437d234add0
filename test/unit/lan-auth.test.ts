import { describe, expect, it } from 'vitest';
import { AuthThrottle, failureDelayMs } from '../../peer/lan/auth-throttle.ts';
import { authProof, proofMatches } from '../../peer/lan/password-guard.ts';
import { NapError } from '../../shared/errors.ts';

const NONCE = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

/**
 * The verdict, and whether it came at once: before the event loop's next turn, so through no timer
 * at all. Unlike a wall-clock bound, this holds however loaded the machine is.
 */
async function judged<T>(verdict: Promise<T>): Promise<{ verdict: T; atOnce: boolean }> {
  let settled = false;
  const watched = verdict.then((value) => {
    settled = true;
    return value;
  });
  await new Promise((resolve) => setImmediate(resolve));
  const atOnce = settled;
  return { verdict: await watched, atOnce };
}

describe('LAN password proof', () => {
  it('is HMAC-SHA256(password, "napshare-lan-auth-v1\\n" nonce "\\n" file) (vector of docs/protocol.md)', () => {
    // Same value as Python: hmac.new(b's3cret', b'napshare-lan-auth-v1\n' + nonce + b'\nfile.bin', sha256)
    expect(authProof('s3cret', NONCE, 'file.bin')).toBe(
      '1fd84091d87c2770a7a22ea59bbffeea35317c8914ca20fcc23649d081737ef0',
    );
  });

  it('depends on the password, the nonce and the file name', () => {
    const proof = authProof('s3cret', NONCE, 'file.bin');
    expect(authProof('s3cret!', NONCE, 'file.bin')).not.toBe(proof);
    expect(authProof('s3cret', NONCE.replace('00', 'ff'), 'file.bin')).not.toBe(proof);
    expect(authProof('s3cret', NONCE, 'other.bin')).not.toBe(proof);
    expect(proof).not.toContain('s3cret');
  });

  it('is checked by proofMatches, whatever the length of the answer', () => {
    const proof = authProof('pw', NONCE, 'f');
    expect(proofMatches('pw', NONCE, 'f', proof)).toBe(true);
    expect(proofMatches('pw', NONCE, 'f', authProof('wrong', NONCE, 'f'))).toBe(false);
    expect(proofMatches('pw', NONCE, 'f', proof.slice(0, 62))).toBe(false);
    expect(proofMatches('pw', NONCE, 'f', '')).toBe(false);
  });

  it('refuses challenges that are not 16 to 64 bytes of lower-case hex', () => {
    for (const nonce of ['', 'abc', NONCE.toUpperCase(), NONCE.slice(1), 'zz'.repeat(16), '00'.repeat(65)]) {
      expect(() => authProof('pw', nonce, 'f'), nonce).toThrow(NapError);
    }
  });
});

describe('AuthThrottle', () => {
  it('holds a wrong answer 1 s, then 0.25 s more each time, at most 2 s', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => failureDelayMs(n))).toEqual([
      0, 1000, 1250, 1500, 1750, 2000, 2000,
    ]);
  });

  it('answers a right proof at once and a wrong one after the hold', async () => {
    const throttle = new AuthThrottle({ firstDelayMs: 150, stepDelayMs: 50, maxDelayMs: 200 });
    expect(await judged(throttle.judge('10.0.0.1', () => true))).toEqual({ verdict: 'OK', atOnce: true });
    const started = performance.now();
    expect(await judged(throttle.judge('10.0.0.1', () => false))).toEqual({
      verdict: 'FAILED',
      atOnce: false,
    });
    // Timers never fire early: the hold is at least its 150 ms (less a millisecond of rounding).
    expect(performance.now() - started).toBeGreaterThanOrEqual(149);
    expect(throttle.failuresOf('10.0.0.1')).toBe(1);
    // Another address is not slowed by the first one's failures.
    expect(await judged(throttle.judge('10.0.0.2', () => true))).toEqual({ verdict: 'OK', atOnce: true });
    // A right proof clears the failures.
    expect(await judged(throttle.judge('10.0.0.1', () => true))).toEqual({ verdict: 'OK', atOnce: true });
    expect(throttle.failuresOf('10.0.0.1')).toBe(0);
    throttle.close();
  });

  it('judges proofs from one address one at a time, so parallel guesses wait their turn', async () => {
    const throttle = new AuthThrottle({
      firstDelayMs: 100,
      stepDelayMs: 50,
      maxDelayMs: 150,
      maxWaiting: 10,
    });
    const started = performance.now();
    const judged: number[] = [];
    const verdicts = await Promise.all(
      [0, 1, 2].map(() =>
        throttle.judge('10.0.0.1', () => {
          judged.push(performance.now() - started);
          return false;
        }),
      ),
    );
    expect(verdicts).toEqual(['FAILED', 'FAILED', 'FAILED']);
    // Holds of 100, 150 and 150 ms: each guess judged only after the previous hold.
    expect(judged[1]).toBeGreaterThanOrEqual(95);
    expect(judged[2]).toBeGreaterThanOrEqual(245);
    expect(performance.now() - started).toBeGreaterThanOrEqual(395);
    expect(throttle.failuresOf('10.0.0.1')).toBe(3);
    throttle.close();
  });

  it('refuses at once, unjudged, the proofs beyond the queue of one address', async () => {
    const throttle = new AuthThrottle({ firstDelayMs: 100, maxDelayMs: 100, maxWaiting: 2 });
    let calls = 0;
    const verify = () => {
      calls++;
      return false;
    };
    const first = throttle.judge('10.0.0.1', verify);
    const second = throttle.judge('10.0.0.1', verify);
    expect(await throttle.judge('10.0.0.1', verify)).toBe('THROTTLED');
    expect(await Promise.all([first, second])).toEqual(['FAILED', 'FAILED']);
    expect(calls).toBe(2);
    // Once the queue drained, the address may try again.
    expect(await throttle.judge('10.0.0.1', () => true)).toBe('OK');
    throttle.close();
  });

  it('forgets failures after a quiet while, so the hold restarts at its shortest', async () => {
    let now = 0;
    const throttle = new AuthThrottle({
      firstDelayMs: 1,
      stepDelayMs: 1,
      maxDelayMs: 10,
      forgetAfterMs: 1000,
      now: () => now,
    });
    for (let i = 0; i < 3; i++) await throttle.judge('10.0.0.1', () => false);
    expect(throttle.failuresOf('10.0.0.1')).toBe(3);
    now = 1001;
    await throttle.judge('10.0.0.1', () => false);
    expect(throttle.failuresOf('10.0.0.1')).toBe(1);
    throttle.close();
  });

  it('tracks a bounded number of addresses, forgetting the oldest idle ones', async () => {
    let now = 0;
    const throttle = new AuthThrottle({
      firstDelayMs: 0,
      stepDelayMs: 0,
      maxDelayMs: 0,
      maxAddresses: 5,
      now: () => now,
    });
    for (let i = 0; i < 20; i++) {
      now = i;
      await throttle.judge(`10.0.0.${i}`, () => false);
    }
    expect(throttle.size).toBeLessThanOrEqual(5);
    expect(throttle.failuresOf('10.0.0.19')).toBe(1);
    expect(throttle.failuresOf('10.0.0.0')).toBe(0);
    throttle.close();
  });

  it('ends pending holds when closed', async () => {
    const throttle = new AuthThrottle({ firstDelayMs: 60_000, maxDelayMs: 60_000 });
    const pending = throttle.judge('10.0.0.1', () => false);
    throttle.close();
    await expect(pending).rejects.toThrow();
    throttle.close(); // idempotent
  });
});
