/**
 * One download of a file per folder at a time, across processes: `name.part.lock`, created
 * exclusively ('wx') and holding the downloader's pid, is held for the whole download, so two
 * downloads never write the same `.part`. A lock whose process is gone (killed, crashed) is
 * stale and taken over; taking over is itself exclusive (`name.part.lock.takeover`), so two
 * processes that find the same stale lock cannot both end up holding a new one.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NapError } from '../../shared/errors.ts';

export const LOCK_SUFFIX = '.lock';
export const TAKEOVER_SUFFIX = '.takeover';
/**
 * A lock file with no pid in it yet is being written (create and write are two steps): alive for
 * this long, stale after. A takeover marker is older than this only if its process died mid-way
 * (a takeover is three file operations).
 */
export const LOCK_GRACE_MS = 10_000;
/** Rounds of "find a stale lock, take it over, try again" before giving up (others race too). */
const MAX_ROUNDS = 8;
/** Pause while another process takes a stale lock over. */
const TAKEOVER_WAIT_MS = 50;

interface Holder {
  pid: number | undefined;
  ino: number;
  mtimeMs: number;
}

export class DownloadLock {
  private released = false;

  private constructor(readonly path: string) {}

  /**
   * Takes the lock of `partPath` (`<partPath>.lock`), the `.part` of `file`; throws IN_PROGRESS while another download
   * (this process or another) holds it. File-system errors (no permission, read-only, no space,
   * no folder) are thrown as they are, for the caller to explain.
   */
  static async acquire(partPath: string, file: string): Promise<DownloadLock> {
    const lockPath = partPath + LOCK_SUFFIX;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (await tryCreate(lockPath)) return new DownloadLock(lockPath);
      const holder = await readHolder(lockPath);
      if (holder === undefined) continue; // released meanwhile: try again
      if (isAlive(holder)) throw inProgress(file, lockPath, holder.pid);
      await takeOver(lockPath, holder);
    }
    throw inProgress(file, lockPath, undefined);
  }

  /** Removes the lock. Idempotent; a lock already gone (folder removed) is fine. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await fs.rm(this.path, { force: true }).catch(() => undefined);
  }
}

/** Creates the lock with our pid; false when it exists. */
async function tryCreate(lockPath: string): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
  } catch (error) {
    // No pid in it (a full disk): never leave a lock nobody can tell is ours.
    await handle.close().catch(() => undefined);
    await fs.rm(lockPath, { force: true });
    throw error;
  }
  return true;
}

async function readHolder(lockPath: string): Promise<Holder | undefined> {
  const stat = await fs.stat(lockPath).catch(() => null);
  const text = await fs.readFile(lockPath, 'utf8').catch(() => null);
  if (stat === null || text === null) return undefined;
  const pid = /^\d{1,10}\n?$/.test(text) ? Number(text.trim()) : undefined;
  return { pid: pid !== undefined && pid > 0 ? pid : undefined, ino: stat.ino, mtimeMs: stat.mtimeMs };
}

/** Whether the process that holds the lock runs (on this machine). */
function isAlive(holder: Holder): boolean {
  if (holder.pid === undefined) return Date.now() - holder.mtimeMs < LOCK_GRACE_MS;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, run by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the stale lock `holder`, if it still is that one, under the takeover marker: whoever
 * creates the marker first removes the stale lock, the others wait; then every one of them
 * competes to create a new lock ('wx'), and exactly one wins.
 */
async function takeOver(lockPath: string, holder: Holder): Promise<void> {
  const marker = lockPath + TAKEOVER_SUFFIX;
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(marker, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = Date.now() - ((await fs.stat(marker).catch(() => null))?.mtimeMs ?? Date.now());
    // A taker that died mid-way; otherwise one is at work: let it finish.
    if (age > LOCK_GRACE_MS) await fs.rm(marker, { force: true });
    else await sleep(TAKEOVER_WAIT_MS);
    return;
  }
  try {
    await handle.close();
    const now = await readHolder(lockPath);
    // The same file (a new lock may even reuse the inode, but not its pid and date too).
    const same = now?.ino === holder.ino && now.pid === holder.pid && now.mtimeMs === holder.mtimeMs;
    if (same) await fs.rm(lockPath);
  } finally {
    await fs.rm(marker, { force: true });
  }
}

function inProgress(file: string, lockPath: string, pid: number | undefined): NapError {
  const who = pid === process.pid ? 'this peer' : pid === undefined ? 'another process' : `process ${pid}`;
  return new NapError(
    'IN_PROGRESS',
    `${file} is already being downloaded into this folder by ${who} (see ${path.basename(lockPath)}); DOWNLOAD it again once that download ends.`,
  );
}
