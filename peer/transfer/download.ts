/**
 * The transfer engine: downloads one file from one or several sources into `<name>.part`, every
 * piece checked against the piece hashes, and renames it when complete. One source: a single
 * streamed range from where the `.part` stops (the course's DOWNLOAD). Several: pieces are taken
 * from all of them in parallel; a source that dies, refuses or sends bytes that fail their hash
 * gives its pieces back to the others.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { NapError } from '../../shared/errors.ts';
import { silentLog } from '../../shared/log.ts';
import { PART_SUFFIX } from '../shared-folder.ts';
import type { DownloadOptions } from './download-options.ts';
import { PartFile } from './part-file.ts';
import { Transfer } from './piece-transfer.ts';
import { plainDownload } from './plain-download.ts';
import type { Source } from './range-receiver.ts';
import { chooseVersion } from './source-info.ts';

export type { DownloadOptions, Progress } from './download-options.ts';

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** Bytes moved over the network (less than `size` when a `.part` was resumed). */
  transferred: number;
  /** Sources that delivered at least one piece. */
  usedSources: Source[];
  /** False when the only sources could not give piece hashes (a DOWNLOAD-only peer). */
  verified: boolean;
}

export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const log = options.log ?? silentLog;
  const finalPath = path.join(options.folder, options.file);
  if (await fs.lstat(finalPath).catch(() => null)) {
    throw new NapError(
      'EXISTS',
      `${options.file} is already in the folder; remove it first to download it again.`,
    );
  }
  if (options.sources.length === 0)
    throw new NapError('NOT_FOUND', `No peer to download ${options.file} from.`);
  const choice = await chooseVersion(options.sources, options.file, options.answerChallenge);
  for (const { source, reason } of choice.dropped) log(`not using ${source.host}:${source.port}: ${reason}`);
  const { info } = choice;
  if (!info) {
    // No source answers INFO: a DOWNLOAD-only peer. Fetch from it, unverified, and say so.
    const source = choice.plain[0] as Source;
    log(
      `${source.host}:${source.port} does not answer INFO: downloading ${options.file} without verification`,
    );
    const plain = await plainDownload({
      source,
      file: options.file,
      finalPath,
      partPath: finalPath + PART_SUFFIX,
      answerChallenge: options.answerChallenge,
      onProgress: (done, total) => options.onProgress?.({ done, total, sources: 1 }),
    });
    return { path: finalPath, ...plain, usedSources: [source], verified: false };
  }
  log(
    `${options.file}: ${info.size} bytes, SHA-256 ${info.sha256}, ${info.pieces.length} pieces of ${info.pieceSize}`,
  );

  const { part, scan } = await PartFile.open(finalPath + PART_SUFFIX, info);
  try {
    const held = scan.have.filter(Boolean).length;
    if (held > 0 || scan.partialBytes > 0)
      log(`resuming: ${held} verified pieces and ${scan.partialBytes} bytes already here`);
    const transfer = new Transfer(options, info, part, scan.have, scan.partialBytes, choice.sources, log);
    const { transferred, usedSources } = await transfer.run();
    await part.finish(finalPath);
    return {
      path: finalPath,
      size: info.size,
      sha256: info.sha256,
      transferred,
      usedSources,
      verified: true,
    };
  } catch (error) {
    // The verified pieces stay in the .part for the next attempt.
    await part.close();
    throw error;
  }
}
