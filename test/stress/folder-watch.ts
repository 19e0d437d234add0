/**
 * Moments of a download seen from its folder, through inotify (fs.watch), not polled: the
 * `.part` reaching a size, a file appearing.
 */
import { watch } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Resolves once `file` holds at least `bytes` (a `.part` growing); stop() ends the watch. */
export function partReaches(file: string, bytes: number): { promise: Promise<void>; stop: () => void } {
  return whenTrue(file, async () => ((await fs.stat(file).catch(() => null))?.size ?? 0) >= bytes);
}

/** Resolves once `file` exists (a lock taken); stop() ends the watch. */
export function appears(file: string): { promise: Promise<void>; stop: () => void } {
  return whenTrue(file, async () => (await fs.lstat(file).catch(() => null)) !== null);
}

/** Checks `test` after each change in `file`'s folder (and once at the start) until it holds. */
function whenTrue(file: string, test: () => Promise<boolean>): { promise: Promise<void>; stop: () => void } {
  const watcher = watch(path.dirname(file));
  const promise = new Promise<void>((resolve) => {
    let checking = false;
    let again = false;
    const check = async () => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      do {
        again = false;
        if (await test()) resolve();
      } while (again);
      checking = false;
    };
    watcher.on('change', () => void check());
    void check();
  });
  return { promise, stop: () => watcher.close() };
}
