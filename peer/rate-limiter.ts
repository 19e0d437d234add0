/**
 * An upload rate cap shared by every upload of a peer (`--max-upload-rate`): a virtual-clock
 * token bucket. Each caller reserves its bytes' share of time; callers past the allowed burst wait.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Burst allowed before callers wait: long enough to absorb timer jitter, short enough that the
 * cap holds over any second.
 */
const BURST_MS = 50;

export class RateLimiter {
  private nextFreeMs = 0;

  constructor(readonly bytesPerSecond: number) {}

  /** Resolves when `bytes` may be sent without going over the rate. */
  async take(bytes: number): Promise<void> {
    const now = performance.now();
    this.nextFreeMs = Math.max(this.nextFreeMs, now - BURST_MS) + (bytes * 1000) / this.bytesPerSecond;
    const wait = this.nextFreeMs - now - BURST_MS;
    if (wait > 0) await sleep(wait);
  }
}
