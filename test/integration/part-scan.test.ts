/**
 * Resuming from a `.part` never trusts its bytes: the scan of peer/transfer/part-file.ts hashes
 * every piece on disk against INFO's piece hashes, keeps the good ones and fetches the others.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { download } from '../../peer/transfer/download.ts';
import { closeFileSources, fileSource } from '../helpers/file-source.ts';
import { makeTempDir, removeTempDirs, sha256File } from '../helpers/files.ts';

const MiB = 1024 * 1024;
const PIECE = 4 * MiB;

afterEach(async () => {
  await closeFileSources();
  await removeTempDirs();
});

/** Flips one byte at `position` of the file. */
async function corrupt(filePath: string, position: number): Promise<void> {
  const handle = await fs.open(filePath, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, position);
    byte[0] = (byte[0] as number) ^ 0xff;
    await handle.write(byte, 0, 1, position);
  } finally {
    await handle.close();
  }
}

/**
 * A served file of `size` random bytes and, in another folder, a `.part` of it as an interrupted
 * download left it: its first `kept` bytes, with one byte flipped at each of `damaged` (a bad
 * disk, another program), the size unchanged.
 */
async function damagedPart(size: number, kept: number, damaged: number[]) {
  const { dir, sha, source } = await fileSource('r.bin', size);
  const into = await makeTempDir();
  const part = path.join(into, 'r.bin.part');
  await fs.copyFile(path.join(dir, 'r.bin'), part);
  await fs.truncate(part, kept);
  for (const position of damaged) await corrupt(part, position);
  return { sha, source, into };
}

describe('a resumed .part whose pieces were corrupted', () => {
  it('re-verifies every piece: the corrupted ones are fetched again, the good ones are not', async () => {
    // Six pieces, the last one of 3 bytes; 4.5 of them on disk, pieces 1 and 3 damaged.
    const { sha, source, into } = await damagedPart(5 * PIECE + 3, 4 * PIECE + MiB / 2, [
      PIECE + 12345,
      4 * PIECE - 1,
    ]);
    const logs: string[] = [];
    const result = await download({
      sources: [source],
      file: 'r.bin',
      folder: into,
      log: (line) => logs.push(line),
    });
    expect(await sha256File(path.join(into, 'r.bin'))).toBe(sha);
    expect(logs).toContain('resuming: 2 verified pieces and 0 bytes already here');
    // Pieces 1, 3 and 4 (the cut one cannot be resumed inside: pieces before it are missing), then 5.
    expect(result.transferred).toBe(3 * PIECE + 3);
    expect(await fs.readdir(into)).toEqual(['r.bin']);
  });

  it('a .part with every piece present but one corrupted is not taken as complete', async () => {
    const size = 2 * PIECE + 100;
    const { sha, source, into } = await damagedPart(size, size, [size - 1]);
    const result = await download({ sources: [source], file: 'r.bin', folder: into });
    expect(result.transferred).toBe(100);
    expect(await sha256File(path.join(into, 'r.bin'))).toBe(sha);
  });
});
