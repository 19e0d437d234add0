/**
 * The download progress bar: stderr, only on a terminal, erased when the download ends, so stdout
 * keeps exactly the console contract. Shows bytes, percent, speed, ETA and sources sending.
 */
import cliProgress from 'cli-progress';
import { formatBytes, formatRate } from '../shared/units.ts';
import type { Progress } from './transfer/download.ts';

/** Redraws at most this often: a terminal needs no more, and drawing costs the transfer time. */
const REDRAW_MS = 200;

export interface ProgressSink {
  update(file: string, progress: Progress): void;
  /** Erases the bar (download done or failed). Idempotent. */
  stop(): void;
  /**
   * Erases the bar for good: the program is leaving (Ctrl+C) while a download may still report
   * progress, and a bar drawn then would stay on the terminal after the exit. Idempotent.
   */
  close(): void;
}

export class ProgressBar implements ProgressSink {
  private bar: cliProgress.SingleBar | undefined;
  private startedAt = 0;
  private startDone = 0;
  private closed = false;

  update(file: string, progress: Progress): void {
    if (this.closed) return;
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${file} {bar} {percentage}% {bytes} {speed} ETA {eta_formatted} {sources}`,
          barsize: 24,
          clearOnComplete: true,
          // A hidden cursor would stay hidden if the process is killed mid-download.
          hideCursor: false,
          fps: 1000 / REDRAW_MS,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.startedAt = performance.now();
      this.startDone = progress.done;
      this.bar.start(progress.total, progress.done, this.payload(progress));
      return;
    }
    this.bar.update(progress.done, this.payload(progress));
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  close(): void {
    this.closed = true;
    this.stop();
  }

  private payload(progress: Progress): Record<string, string> {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? (progress.done - this.startDone) / seconds : 0;
    return {
      bytes: `${formatBytes(progress.done)}/${formatBytes(progress.total)}`,
      speed: formatRate(rate),
      sources: `${progress.sources} source${progress.sources === 1 ? '' : 's'}`,
    };
  }
}
