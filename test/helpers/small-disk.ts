/**
 * A folder on a disk that fills up, for tests of what a download does on a full disk. As root: a
 * real tmpfs of the given size (`mount -t tmpfs -o size=...`), unmounted by `remove()`. Otherwise
 * (no right to mount): an ordinary temp folder where file-handle writes past the size fail with
 * an injected ENOSPC, as the kernel's would. `free()` makes room again (a filler file written at
 * the start is removed), `readOnly()` remounts the tmpfs read-only.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { vi } from 'vitest';
import { makeTempDir } from './files.ts';

export type DiskKind = 'tmpfs' | 'injected';

export interface SmallDisk {
  dir: string;
  kind: DiskKind;
  /** Removes the filler: room for `fillerBytes` more. */
  free(): Promise<void>;
  remove(): Promise<void>;
}

/** Whether this process may mount a tmpfs (root, with the right to mount). */
export async function canMountTmpfs(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  const dir = await makeTempDir('napshare-mount-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function mountTmpfs(dir: string, options: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
}

export function unmount(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'pipe' });
}

/**
 * A folder with room for `sizeBytes`, `fillerBytes` of it taken by a file named `filler` (not
 * shared by the tests' downloads: they fetch other names).
 */
export async function smallDisk(kind: DiskKind, sizeBytes: number, fillerBytes: number): Promise<SmallDisk> {
  const dir = await makeTempDir('napshare-disk-');
  const filler = path.join(dir, 'filler');
  if (kind === 'tmpfs') {
    mountTmpfs(dir, `size=${sizeBytes}`);
    await fs.writeFile(filler, Buffer.alloc(fillerBytes, 1));
    return {
      dir,
      kind,
      free: () => fs.rm(filler),
      remove: async () => unmount(dir),
    };
  }
  await fs.writeFile(filler, Buffer.alloc(fillerBytes, 1));
  // Every FileHandle shares one prototype: count what is written through any of them.
  const probe = await fs.open(os.devNull, 'r');
  const prototype = Object.getPrototypeOf(probe) as fs.FileHandle;
  await probe.close();
  const write = prototype.write;
  let room = sizeBytes - fillerBytes;
  const spy = vi.spyOn(prototype, 'write').mockImplementation(function (
    this: fs.FileHandle,
    ...args: unknown[]
  ) {
    const data = args[0] as unknown;
    const length = Buffer.isBuffer(data) ? ((args[2] as number | undefined) ?? data.length) : 0;
    if (length > room)
      return Promise.reject(
        Object.assign(new Error('ENOSPC: no space left on device, write'), {
          code: 'ENOSPC',
          syscall: 'write',
        }),
      );
    room -= length;
    return (write as (...a: unknown[]) => ReturnType<fs.FileHandle['write']>).apply(this, args);
  } as fs.FileHandle['write']);
  return {
    dir,
    kind,
    free: async () => {
      await fs.rm(filler);
      room += fillerBytes;
    },
    remove: async () => spy.mockRestore(),
  };
}
