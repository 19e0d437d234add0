/**
 * What a download is asked to do (its sources, the file, the folder) and what it reports while it
 * runs. Its own module so the engine's parts (download.ts, piece-transfer.ts) share it without
 * importing each other.
 */
import type { Log } from '../../shared/log.ts';
import type { Source } from './range-receiver.ts';

export interface Progress {
  /** Bytes of the file held (verified pieces, plus bytes of pieces arriving). */
  done: number;
  total: number;
  /** Sources currently sending. */
  sources: number;
}

export interface DownloadOptions {
  sources: Source[];
  file: string;
  /** Absolute folder the file is saved into. */
  folder: string;
  log?: Log;
  onProgress?: (progress: Progress) => void;
  answerChallenge?: ((file: string, nonce: string) => string) | undefined;
}
