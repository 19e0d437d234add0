/**
 * What a download is asked to do (its sources, the file, the folder) and what it reports while it
 * runs. Its own module so the engine's parts (download.ts, piece-transfer.ts) share it without
 * importing each other.
 */
import type { Log } from '../../shared/log.ts';
import type { LinkFunction } from './final-name.ts';
import type { Source } from './range-receiver.ts';

export interface Progress {
  /** Bytes of the file held (verified pieces, plus bytes of pieces arriving). */
  done: number;
  total: number;
  /** Sources currently sending. */
  sources: number;
  /** Pieces verified and held, of `pieceCount` (absent for a download without piece hashes). */
  verifiedPieces?: number;
  pieceCount?: number;
}

export interface DownloadOptions {
  /** Where to fetch from; each must be verified unless marked `plain` (Source.plain). */
  sources: Source[];
  file: string;
  /** Absolute folder the file is saved into. */
  folder: string;
  /** The folder as the user typed it, for the sentences that name it (default: `folder`). */
  folderTyped?: string;
  log?: Log;
  onProgress?: (progress: Progress) => void;
  answerChallenge?: ((file: string, nonce: string) => string) | undefined;
  /** Wait for each INFO answer (default INFO_TIMEOUT_MS, 10 min: hashing a huge file takes long). */
  infoTimeoutMs?: number;
  /** First pause between INFO attempts (default INFO_RETRY_DELAY_MS). */
  infoRetryDelayMs?: number;
  /** How the final name is claimed: fs.link, or a stand-in for a file system without hard links. */
  link?: LinkFunction;
  /**
   * Cancels the download: every connection is cut at once, the verified pieces stay in the
   * `.part` (the next download resumes from them), and it rejects with CANCELLED.
   */
  signal?: AbortSignal | undefined;
}
