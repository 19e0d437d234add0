/**
 * Giving a complete, verified `.part` its final name without ever replacing a file: a hard link
 * from the `.part` to the name fails when the name exists (EEXIST) whatever appeared there and
 * whenever, so an existing file always wins; the `.part` name is removed only after. A rename
 * would silently replace the file. The folder is then fsynced (folder-sync.ts), so the name
 * survives a power cut once the download says the file is saved.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { NapError } from '../../shared/errors.ts';
import { syncFolderOf } from './folder-sync.ts';

/**
 * errno codes of `link` on file systems without hard links (FAT32 and exFAT give EPERM on Linux;
 * some network shares ENOTSUP or ENOSYS).
 */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

export type LinkFunction = (existingPath: string, newPath: string) => Promise<void>;

/**
 * Moves `partPath` to `finalPath` unless something is already at `finalPath`: then throws EXISTS
 * and the `.part` stays as it is (the next download finishes from it at once). `verified` says
 * which copy the message speaks of; `link` is fs.link (a test passes one that fails as on a file
 * system without hard links).
 */
export async function claimFinalName(
  partPath: string,
  finalPath: string,
  options: { verified: boolean; link?: LinkFunction },
): Promise<void> {
  try {
    await (options.link ?? fs.link)(partPath, finalPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw nameTaken(partPath, finalPath, options.verified);
    if (code === undefined || !NO_HARD_LINKS.has(code)) throw error;
    return claimWithoutLinks(partPath, finalPath, options.verified);
  }
  // The file now has both names; dropping the `.part` one cannot harm it (if that fails, the
  // `.part` is a second name of the same complete file, which a later download finishes from).
  await fs.unlink(partPath).catch(() => undefined);
  // One fsync makes both the link and the unlink durable: they are entries of the same folder.
  await syncFolderOf(finalPath);
}

/**
 * Without hard links: the name is taken by creating it exclusively (fails if it exists), then
 * the `.part` is renamed over that empty file of ours. An existing file still always wins; a
 * crash between the two steps leaves an empty file under the name (docs/reference.md, "Downloads").
 */
async function claimWithoutLinks(partPath: string, finalPath: string, verified: boolean): Promise<void> {
  let placeholder: fs.FileHandle;
  try {
    placeholder = await fs.open(finalPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw nameTaken(partPath, finalPath, verified);
    throw error;
  }
  const { ino } = await placeholder.stat();
  await placeholder.close();
  try {
    await fs.rename(partPath, finalPath);
  } catch (error) {
    // Remove the placeholder, but only if it still is ours and empty.
    const now = await fs.lstat(finalPath).catch(() => null);
    if (now?.ino === ino && now.size === 0) await fs.rm(finalPath, { force: true });
    throw error;
  }
  await syncFolderOf(finalPath);
}

function nameTaken(partPath: string, finalPath: string, verified: boolean): NapError {
  const name = path.basename(finalPath);
  const copy = verified ? 'the verified copy' : 'the complete (unverified) copy';
  return new NapError(
    'EXISTS',
    `${name} appeared in the folder during the download and is left as it is; ${copy} is kept in ${path.basename(partPath)}: move the other ${name} away and DOWNLOAD again to finish at once.`,
  );
}
