/**
 * The data of the page's speed chart: the transfer speed of all downloads together, one sample a
 * second for the last minute. Pure: fed the total of bytes received and the time.
 */

/** Samples kept: one a second for a minute, what a small chart shows. */
export const SPEED_SAMPLES = 60;
/** One sample a second. */
export const SPEED_SAMPLE_MS = 1000;

export class SpeedHistory {
  private readonly samples: number[] = [];
  private last: { at: number; bytes: number } | undefined;

  /** Bytes per second, oldest first (at most SPEED_SAMPLES). */
  get values(): number[] {
    return [...this.samples];
  }

  /** Adds the speed since the previous call; the first call only sets the start. */
  sample(bytesReceived: number, at: number): void {
    const last = this.last;
    this.last = { at, bytes: bytesReceived };
    if (!last || at <= last.at) return;
    this.samples.push(Math.max(0, ((bytesReceived - last.bytes) * 1000) / (at - last.at)));
    if (this.samples.length > SPEED_SAMPLES) this.samples.shift();
  }

  /** Downloads stopped: the next sample starts a new measure (a quiet gap is not averaged in). */
  pause(): void {
    this.last = undefined;
  }
}
