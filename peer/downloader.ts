/**
 * Downloading a file from one peer for the chat, LAN and DHT modes: the transfer engine
 * (peer/transfer/download.ts) with a single source, as the course's DOWNLOAD uses it. The file is written as
 * `<name>.part`, verified piece by piece and named only when complete (never over a file); an
 * interrupted download leaves the `.part`, and the next one continues from it. The peer must be
 * verified unless `plain` says the index lists it without INFO: the LAN and DHT modes never set
 * it (their peers are napshare's), the chat mode's /fetch sets it from QUERY.
 */
import { type ErrorCode, isNapError } from '../shared/errors.ts';
import type { Log } from '../shared/log.ts';
import { download, type Progress } from './transfer/download.ts';

export interface DownloadJob {
  host: string;
  port: number;
  file: string;
  /** Absolute folder the file is saved into. */
  folder: string;
  /** The folder as the user typed it, for the sentences that name it (default: `folder`). */
  folderTyped?: string;
  log?: Log;
  /** Bytes held so far, the file's size, and how many sources are sending. */
  onProgress?: (done: number, total: number, sources: number) => void;
  /**
   * Answers an AUTH_CHALLENGE from a password-protected file server (LAN mode): returns the
   * proof (hex) for `file` and the server's `nonce`. Without it a challenge is a REJECTED error.
   */
  answerChallenge?: (file: string, nonce: string) => string;
  /** The index lists this peer without the INFO capability: it may be fetched unverified. */
  plain?: boolean;
}

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** Bytes moved over the network (less than `size` when a `.part` was resumed). */
  transferred: number;
  /** False only for a `plain` peer: the copy could not be checked (the caller says so). */
  verified: boolean;
}

export async function downloadFile(job: DownloadJob): Promise<DownloadResult> {
  const { path, size, sha256, transferred, verified } = await download({
    sources: [
      job.plain ? { host: job.host, port: job.port, plain: true } : { host: job.host, port: job.port },
    ],
    file: job.file,
    folder: job.folder,
    folderTyped: job.folderTyped,
    log: job.log,
    onProgress:
      job.onProgress &&
      ((progress: Progress) => job.onProgress?.(progress.done, progress.total, progress.sources)),
    answerChallenge: job.answerChallenge,
  });
  return { path, size, sha256, transferred, verified };
}

/** Failures of this folder, not of the peer asked (docs/reference.md, "Downloads"): no other peer does better. */
const FOLDER_ERRORS: readonly ErrorCode[] = [
  'EXISTS',
  'IN_PROGRESS',
  'DISK_FULL',
  'PERMISSION_DENIED',
  'READ_ONLY',
  'FOLDER_GONE',
];

/** Whether trying the next holder of the file is pointless after `error`. */
export function isFolderError(error: unknown): boolean {
  return isNapError(error) && FOLDER_ERRORS.includes(error.code);
}
