/**
 * The transfer engine: downloads one file from one or several sources into `<name>.part`, every
 * piece checked against the piece hashes, and gives it its name when complete. One source: a
 * single streamed range from where the `.part` stops (the course's DOWNLOAD). Several: pieces are
 * taken from all of them in parallel; a source that dies, refuses or sends bytes that fail their
 * hash gives its pieces back to the others.
 *
 * What holds (docs/reference.md, "Downloads"): a source that must be verified is never fetched unverified;
 * nothing is ever written under the final name but the complete file, and never over a file
 * that is there; one download of a file per folder at a time (`name.part.lock`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isNapError, NapError } from '../../shared/errors.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import { PART_SUFFIX } from '../shared-folder.ts';
import { DownloadLock } from './download-lock.ts';
import type { DownloadOptions } from './download-options.ts';
import type { ExpectedHashes } from './expected-hashes.ts';
import { localFailure } from './local-errors.ts';
import { PartFile } from './part-file.ts';
import { Transfer } from './piece-transfer.ts';
import { plainDownload } from './plain-download.ts';
import type { Source } from './range-receiver.ts';
import { chooseVersion, type VersionChoice } from './source-info.ts';
import { HashThreadLost } from './thread-hash.ts';

export type { DownloadOptions, Progress } from './download-options.ts';

/**
 * INFO rounds when a source's file changes during the download (CHANGED): each round fetches
 * the new version, keeping the pieces the versions share; a file that keeps changing fails.
 */
export const MAX_VERSION_ROUNDS = 3;
/**
 * Times a download starts again on a new SHA-256 thread when its thread is lost (a crash): once.
 * The resume checks the .part's pieces on the new thread; a thread that dies again means
 * something is wrong with this process, and the download fails in one sentence instead of looping.
 */
export const MAX_THREAD_RESTARTS = 1;

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** Bytes moved over the network (less than `size` when a `.part` was resumed). */
  transferred: number;
  /** Sources that delivered at least one piece. */
  usedSources: Source[];
  /** False only when fetched from a source the index lists without INFO (Source.plain). */
  verified: boolean;
}

export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const finalPath = path.join(options.folder, options.file);
  const partPath = finalPath + PART_SUFFIX;
  await refuseExisting(finalPath, partPath, options.file);
  if (options.sources.length === 0)
    throw new NapError('NOT_FOUND', `No peer to download ${options.file} from.`);
  let lock: DownloadLock | undefined;
  try {
    lock = await DownloadLock.acquire(partPath, options.file);
    return await fetchVersion(options, finalPath, partPath);
  } catch (error) {
    const kept = await keptNow(partPath, options.file);
    // Whatever the cut connections made of it, a download stopped by its signal was cancelled.
    if (options.signal?.aborted)
      throw new NapError(
        'CANCELLED',
        `The download of ${options.file} was cancelled; ${kept}, DOWNLOAD again to resume.`,
        { cause: error },
      );
    // Lost while the .part was being checked, before any transfer could say what it keeps.
    const lost = isNapError(error) ? undefined : threadLost(error);
    if (lost)
      throw new NapError('IO', `${lost.message.replace(/\.$/, '')}; ${kept}, DOWNLOAD again to resume.`, {
        cause: error,
      });
    throw localFailure(error, options.folderTyped ?? options.folder, kept) ?? error;
  } finally {
    await lock?.release();
  }
}

/** A file already under the name is never touched: refused before anything is asked. */
async function refuseExisting(finalPath: string, partPath: string, file: string): Promise<void> {
  if (!(await fs.lstat(finalPath).catch(() => null))) return;
  const part = (await fs.lstat(partPath).catch(() => null))?.isFile();
  throw new NapError(
    'EXISTS',
    part
      ? `${file} is already in the folder and is left as it is; the copy downloaded so far is kept in ${path.basename(partPath)}: move ${file} away and DOWNLOAD again to finish from it.`
      : `${file} is already in the folder; remove it first to download it again.`,
  );
}

/** INFO, then the transfer; again from a new INFO when a source's file changed meanwhile. */
async function fetchVersion(
  options: DownloadOptions,
  finalPath: string,
  partPath: string,
): Promise<DownloadResult> {
  const log = options.log ?? silentLog;
  let restarts = 0;
  for (let round = 1; ; round++) {
    options.signal?.throwIfAborted();
    // A .part to resume from may hold good pieces after a bad one: only piece hashes can tell.
    const resuming = ((await fs.stat(partPath).catch(() => null))?.size ?? 0) > 0;
    const choice = await chooseVersion(options.sources, options.file, {
      prefixes: !resuming,
      answerChallenge: options.answerChallenge,
      timeoutMs: options.infoTimeoutMs,
      retryDelayMs: options.infoRetryDelayMs,
      log,
      signal: options.signal,
    });
    for (const { source, reason } of choice.dropped)
      log(`not using ${source.host}:${source.port}: ${reason}`);
    if (!choice.expected) return fetchPlain(options, choice.plain[0] as Source, finalPath, partPath, log);
    try {
      return await fetchVerified(options, { ...choice, expected: choice.expected }, finalPath, partPath, log);
    } catch (error) {
      const lost = threadLost(error);
      if (lost && restarts < MAX_THREAD_RESTARTS) {
        restarts++;
        // Not a new version of the file: the same round starts again.
        round--;
        log(`${lost.message.replace(/\.$/, '')}; resuming ${options.file} from its .part on a new thread`);
        continue;
      }
      if (!isNapError(error, 'CHANGED') || round >= MAX_VERSION_ROUNDS) throw error;
      log(`${options.file} changed at its source during the download; asking INFO again`);
    } finally {
      choice.stopLate();
      choice.expected.close();
    }
  }
}

/**
 * Every piece checked against `expected`'s hashes (by prefix hashes: the whole file's SHA-256
 * too); the verified pieces stay in the .part on failure.
 */
async function fetchVerified(
  options: DownloadOptions,
  { expected, sources, late }: VersionChoice & { expected: ExpectedHashes },
  finalPath: string,
  partPath: string,
  log: Log,
): Promise<DownloadResult> {
  const { size, pieceCount, pieceSize } = expected;
  log(
    expected.kind === 'prefixes'
      ? `${options.file}: ${size} bytes, ${pieceCount} pieces of ${pieceSize}, checked by prefix hashes as the peer computes them`
      : `${options.file}: ${size} bytes, SHA-256 ${await expected.sha256()}, ${pieceCount} pieces of ${pieceSize}`,
  );
  const { part, scan } = await PartFile.open(partPath, expected);
  try {
    const held = scan.have.filter(Boolean).length;
    if (held > 0 || scan.partialBytes > 0)
      log(`resuming: ${held} verified pieces and ${scan.partialBytes} bytes already here`);
    const transfer = new Transfer(options, expected, part, scan, sources, log, late);
    const { transferred, usedSources } = await transfer.run();
    // By prefix hashes, the last piece was checked against the file's SHA-256 up to its end, the
    // one INFO_END states: the name waits for it (and for the uploader's last version check).
    const sha256 = await expected.sha256();
    await part.finish(finalPath, options.link);
    return {
      path: finalPath,
      size,
      sha256,
      transferred,
      usedSources,
      verified: true,
    };
  } finally {
    await part.close();
  }
}

/** A source the index lists without INFO: fetched unverified, and the caller says so. */
async function fetchPlain(
  options: DownloadOptions,
  source: Source,
  finalPath: string,
  partPath: string,
  log: Log,
): Promise<DownloadResult> {
  log(
    `${source.host}:${source.port} is listed without INFO: downloading ${options.file} without verification`,
  );
  const plain = await plainDownload({
    source,
    file: options.file,
    finalPath,
    partPath,
    answerChallenge: options.answerChallenge,
    onProgress: (done, total) => options.onProgress?.({ done, total, sources: 1 }),
    signal: options.signal,
  });
  return { path: finalPath, ...plain, usedSources: [source], verified: false };
}

/** The stderr line after an unverified download (DownloadResult.verified false) from `source`. */
export function unverifiedNotice(file: string, source: Source): string {
  return `${file} was saved without verification: the index lists its peer ${source.host}:${source.port} without the INFO capability (a peer that speaks only DOWNLOAD), so there were no piece hashes to check it against.`;
}

/** The SHA-256 thread's loss behind `error` (itself or its cause), if that is what it is. */
function threadLost(error: unknown): HashThreadLost | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 4; depth++) {
    if (cause instanceof HashThreadLost) return cause;
    cause = cause.cause;
  }
  return undefined;
}

/** What a failed download leaves, for its error sentence. */
async function keptNow(partPath: string, file: string): Promise<string> {
  const size = (await fs.lstat(partPath).catch(() => null))?.size ?? 0;
  return size > 0 ? `${path.basename(partPath)} (${size} bytes) is kept` : `nothing of ${file} is kept`;
}
