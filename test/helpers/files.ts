/** Temp folders and random-content files for tests, compared by SHA-256. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

/** A new empty folder under the OS temp dir; removed by `removeTempDirs`. */
export async function makeTempDir(prefix = 'napshare-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
}

/** Writes `size` random bytes to `filePath` (in 1 MiB blocks) and returns their SHA-256. */
export async function writeRandomFile(filePath: string, size: number): Promise<string> {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new Error(`writeRandomFile: size must be a whole number of bytes, not ${size}`);
  const hash = createHash('sha256');
  const handle = await fs.open(filePath, 'w');
  try {
    const block = 1024 * 1024;
    for (let written = 0; written < size; ) {
      const chunk = randomBytes(Math.min(block, size - written));
      await handle.write(chunk);
      hash.update(chunk);
      written += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

export async function sha256File(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath, { highWaterMark: 4 * 1024 * 1024 }))
    hash.update(chunk);
  return hash.digest('hex');
}

export async function exists(filePath: string): Promise<boolean> {
  return (await fs.lstat(filePath).catch(() => null)) !== null;
}
