/**
 * The web page's downloads: each one's sources, state and live progress (bytes, speed, ETA,
 * sources sending, verified pieces), and the history of those that ended, with their errors in
 * words. Pure state on an injected clock: no sockets, no files, tested alone.
 */
import type { Progress } from '../transfer/download.ts';

/** Downloads kept once ended (the history shown); the oldest ended ones go first. */
export const MAX_ENDED_DOWNLOADS = 50;
/** Downloads running at once from the page: each holds up to 12 piece buffers of 4 MiB. */
export const MAX_RUNNING_DOWNLOADS = 4;
/** Speed is measured over this window: long enough to smooth bursts, short enough to follow. */
export const SPEED_WINDOW_MS = 3000;

export type DownloadStatus = 'running' | 'done' | 'failed' | 'cancelled';

/** What the page shows of one download (GET /api/state's `downloads`, docs/web.md). */
export interface DownloadView {
  id: number;
  file: string;
  /** `all` (every holder of the SEARCH) or the one `IP:port` asked. */
  from: string;
  status: DownloadStatus;
  done: number;
  /** The file's size; 0 until the first INFO answer. */
  total: number;
  /** Bytes per second over the last SPEED_WINDOW_MS; 0 when not running. */
  speed: number;
  /** Seconds left at that speed; null when unknown (no speed yet, or not running). */
  etaSeconds: number | null;
  /** Sources sending right now. */
  sources: number;
  verifiedPieces: number | null;
  pieceCount: number | null;
  /** Bytes already held when the latest attempt started (a resume), null before its first report. */
  resumedFrom: number | null;
  attempts: number;
  startedAt: number;
  endedAt: number | null;
  /** False for a copy fetched from a holder without INFO (nothing to check it against). */
  verified: boolean | null;
  sha256: string | null;
  error: { code: string; message: string } | null;
}

interface Sample {
  at: number;
  done: number;
}

interface Entry {
  view: DownloadView;
  samples: Sample[];
  /** `done` of the last report of this attempt, to count the bytes that arrived since. */
  lastDone: number | undefined;
}

export class DownloadBoard {
  private readonly entries = new Map<number, Entry>();
  private nextId = 1;
  /** Bytes that arrived, all downloads together, since the board was made (the speed chart). */
  private received = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get runningCount(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.view.status === 'running') count++;
    return count;
  }

  /** Bytes received by every download so far: the speed chart samples it. */
  get bytesReceived(): number {
    return this.received;
  }

  /** A new running download; the caller checks MAX_RUNNING_DOWNLOADS first. */
  add(file: string, from: string): number {
    const id = this.nextId++;
    this.entries.set(id, {
      view: {
        id,
        file,
        from,
        status: 'running',
        done: 0,
        total: 0,
        speed: 0,
        etaSeconds: null,
        sources: 0,
        verifiedPieces: null,
        pieceCount: null,
        resumedFrom: null,
        attempts: 1,
        startedAt: this.now(),
        endedAt: null,
        verified: null,
        sha256: null,
        error: null,
      },
      samples: [],
      lastDone: undefined,
    });
    this.trim();
    return id;
  }

  get(id: number): DownloadView | undefined {
    return this.entries.get(id)?.view;
  }

  /** Newest first, as the page lists them. */
  list(): DownloadView[] {
    return [...this.entries.values()].map((entry) => entry.view).reverse();
  }

  progress(id: number, progress: Progress): void {
    const entry = this.entries.get(id);
    if (entry?.view.status !== 'running') return;
    const at = this.now();
    const view = entry.view;
    if (entry.lastDone === undefined) view.resumedFrom = progress.done;
    else this.received += Math.max(0, progress.done - entry.lastDone);
    entry.lastDone = progress.done;
    view.done = progress.done;
    view.total = progress.total;
    view.sources = progress.sources;
    view.verifiedPieces = progress.verifiedPieces ?? null;
    view.pieceCount = progress.pieceCount ?? null;
    entry.samples.push({ at, done: progress.done });
    while (entry.samples.length > 2 && (entry.samples[1] as Sample).at <= at - SPEED_WINDOW_MS)
      entry.samples.shift();
    const first = entry.samples[0] as Sample;
    const seconds = (at - first.at) / 1000;
    view.speed = seconds > 0 ? Math.max(0, (progress.done - first.done) / seconds) : 0;
    view.etaSeconds = view.speed > 0 ? Math.ceil((view.total - view.done) / view.speed) : null;
  }

  succeeded(id: number, result: { size: number; sha256: string; verified: boolean }): void {
    const view = this.end(id, 'done');
    if (!view) return;
    view.done = result.size;
    view.total = result.size;
    view.sha256 = result.sha256;
    view.verified = result.verified;
    if (view.pieceCount !== null) view.verifiedPieces = view.pieceCount;
  }

  failed(id: number, error: { code: string; message: string }, cancelled: boolean): void {
    const view = this.end(id, cancelled ? 'cancelled' : 'failed');
    if (view) view.error = error;
  }

  /** Runs an ended download again (resume): false unless it failed or was cancelled. */
  restart(id: number): boolean {
    const entry = this.entries.get(id);
    if (!entry || (entry.view.status !== 'failed' && entry.view.status !== 'cancelled')) return false;
    const view = entry.view;
    view.status = 'running';
    view.attempts++;
    view.error = null;
    view.endedAt = null;
    view.resumedFrom = null;
    view.sources = 0;
    entry.samples = [];
    entry.lastDone = undefined;
    // Moved to the top of the list, as a new download would be.
    this.entries.delete(id);
    this.entries.set(id, entry);
    return true;
  }

  private end(id: number, status: DownloadStatus): DownloadView | undefined {
    const entry = this.entries.get(id);
    if (entry?.view.status !== 'running') return undefined;
    entry.view.status = status;
    entry.view.endedAt = this.now();
    entry.view.speed = 0;
    entry.view.etaSeconds = null;
    entry.view.sources = 0;
    entry.samples = [];
    this.trim();
    return entry.view;
  }

  /** Keeps at most MAX_ENDED_DOWNLOADS ended ones: the oldest go. */
  private trim(): void {
    const ended = [...this.entries.values()].filter((entry) => entry.view.status !== 'running');
    for (const entry of ended.slice(0, Math.max(0, ended.length - MAX_ENDED_DOWNLOADS)))
      this.entries.delete(entry.view.id);
  }
}
