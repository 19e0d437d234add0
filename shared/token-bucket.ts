/**
 * A token bucket on a clock the caller passes (pure, testable without timers): `ratePerSecond`
 * tokens a second, at most `burst` saved up. Used to rate-limit chat messages per member.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes one token if there is one (true), else false and nothing changes. */
  take(nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.lastMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Messages a chat member may send in a burst, in seconds of its rate: a pasted paragraph passes,
 * a flood is cut to the rate after it.
 */
export const CHAT_BURST_SECONDS = 4;

/** The bucket for one chat member at `ratePerSecond` messages a second. */
export function chatBucket(ratePerSecond: number, nowMs: number): TokenBucket {
  return new TokenBucket(ratePerSecond, Math.max(1, Math.round(ratePerSecond * CHAT_BURST_SECONDS)), nowMs);
}
