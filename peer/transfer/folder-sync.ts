/**
 * Making a folder's entries durable. A file's name lives in its folder, not in the file: the
 * `fdatasync` of a downloaded file flushes its bytes, not the link that names it nor the unlink
 * or rename of its `.part`. Until the folder itself is fsynced, a power cut may lose the new name
 * (or bring the `.part` name back). docs/reference.md, "Downloads", says what each crash leaves.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describeError, NapError } from '../../shared/errors.ts';

/**
 * errno codes of a folder's `fsync` on file systems that cannot sync a folder at all (procfs and
 * sysfs give EINVAL, some network and FUSE file systems ENOTSUP or ENOSYS). There the name is as
 * durable as that file system makes it, whatever napshare asks: failing a download that is
 * complete, verified and named would only make the user fetch it again for nothing.
 */
const NO_FOLDER_SYNC = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** errno codes that mean the folder itself is gone: the caller's sentence says so (FOLDER_GONE). */
const FOLDER_GONE = new Set(['ENOENT', 'ENOTDIR']);

/**
 * Flushes the folder that holds `filePath` (opened read-only, fsynced, closed), once its name was
 * given. Any other failure (EIO: the disk did not take the folder's update) fails with IO: the
 * file is there, but its name may not survive a power cut, and a download that says it saved a
 * file promises that it will.
 */
export async function syncFolderOf(filePath: string): Promise<void> {
  const folder = path.dirname(filePath);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(folder, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined && NO_FOLDER_SYNC.has(code)) return;
    if (code !== undefined && FOLDER_GONE.has(code)) throw error;
    throw new NapError(
      'IO',
      `${path.basename(filePath)} is in the folder, but the folder could not be flushed to disk (${describeError(error).replace(/\.$/, '')}): a power cut may still lose its name; check the disk.`,
      { cause: error },
    );
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
