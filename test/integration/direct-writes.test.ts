/**
 * Pieces written around the page cache (peer/transfer/direct-writes.ts): aligned piece buffers go
 * O_DIRECT, anything else through the page cache, and the file's bytes are right either way.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allocateAligned, BUFFER_ALIGNMENT, isAligned } from '../../peer/buffer-recycler.ts';
import { DirectWrites } from '../../peer/transfer/direct-writes.ts';
import { download } from '../../peer/transfer/download.ts';
import { closeFileSources, fileSource } from '../helpers/file-source.ts';
import { makeTempDir, removeTempDirs, sha256File } from '../helpers/files.ts';

afterEach(async () => {
  await closeFileSources();
  await removeTempDirs();
});

/** Bytes of `filePath` in the page cache (util-linux fincore), or undefined without fincore. */
function cachedBytes(filePath: string): Promise<number | undefined> {
  return new Promise((resolve) =>
    execFile('fincore', ['--bytes', '--noheadings', '--output', 'RES', filePath], (error, stdout) =>
      resolve(error ? undefined : Number(stdout.trim())),
    ),
  );
}

/** Whether the temp folder's file system takes O_DIRECT at all (tmpfs does not). */
async function tempTakesDirect(): Promise<boolean> {
  const probe = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'napshare-probe-')), 'probe');
  await fs.writeFile(probe, '');
  const handle = await fs.open(probe, constants.O_RDWR | constants.O_DIRECT).catch(() => undefined);
  await handle?.close();
  await fs.rm(path.dirname(probe), { recursive: true });
  return handle !== undefined;
}

const HAS_FINCORE = (await cachedBytes(process.execPath)) !== undefined;
const TAKES_DIRECT = await tempTakesDirect();

function alignedCopy(data: Buffer): Buffer {
  const buffer = allocateAligned(data.length);
  data.copy(buffer);
  return buffer;
}

describe('aligned buffers', () => {
  it('start on a page boundary, and so do their slices at aligned offsets only', () => {
    const buffer = allocateAligned(3 * BUFFER_ALIGNMENT + 5);
    expect(buffer.length).toBe(3 * BUFFER_ALIGNMENT + 5);
    expect(isAligned(buffer)).toBe(true);
    expect(isAligned(buffer.subarray(BUFFER_ALIGNMENT))).toBe(true);
    expect(isAligned(buffer.subarray(512))).toBe(false);
    expect(isAligned(Buffer.allocUnsafeSlow(BUFFER_ALIGNMENT))).toBe(false);
  });
});

describe.skipIf(!TAKES_DIRECT)('O_DIRECT piece writes', () => {
  it('writes aligned pieces around the page cache and refuses the rest; the bytes are right', async () => {
    const file = path.join(await makeTempDir(), 'f.part');
    await fs.writeFile(file, '');
    const direct = await DirectWrites.open(file);
    expect(direct.active).toBe(true);
    const piece = randomBytes(4 * BUFFER_ALIGNMENT);
    const second = randomBytes(2 * BUFFER_ALIGNMENT);
    expect(await direct.write(alignedCopy(piece), 0)).toBe(true);
    expect(await direct.write(alignedCopy(second), piece.length)).toBe(true);
    // Not aligned in memory, in the file, or in length: left to the page cache.
    expect(await direct.write(Buffer.from(piece), 0)).toBe(false);
    expect(await direct.write(alignedCopy(piece), 512)).toBe(false);
    expect(await direct.write(alignedCopy(piece.subarray(0, 1000)), 0)).toBe(false);
    expect(direct.active).toBe(true);
    await direct.close();
    expect(await fs.readFile(file)).toEqual(Buffer.concat([piece, second]));
  });

  it.skipIf(!HAS_FINCORE)(
    "a download's whole pieces bypass the page cache, only its short last piece is cached",
    async () => {
      const tail = 3 * BUFFER_ALIGNMENT + 7;
      const pieceSize = 4 * 1024 * 1024;
      const { sha, source } = await fileSource('d.bin', 3 * pieceSize + tail);
      const into = await makeTempDir();
      const result = await download({ sources: [source], file: 'd.bin', folder: into });
      expect(await sha256File(result.path)).toBe(sha);
      // Read after the check above, which reads through the cache: measure a second copy instead.
      await fs.rm(result.path);
      const again = await download({ sources: [source], file: 'd.bin', folder: into });
      const cached = (await cachedBytes(again.path)) as number;
      // The tail rounded up to whole pages; the 12 MiB of whole pieces never entered the cache.
      expect(cached).toBeLessThanOrEqual(Math.ceil(tail / BUFFER_ALIGNMENT) * BUFFER_ALIGNMENT);
      expect(cached).toBeGreaterThan(0);
    },
  );
});

describe('a file system that refuses O_DIRECT', () => {
  it('at open: every write is left to the page cache', async () => {
    const direct = await DirectWrites.open('/nonexistent', async () => {
      throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
    });
    expect(direct.active).toBe(false);
    expect(await direct.write(allocateAligned(BUFFER_ALIGNMENT), 0)).toBe(false);
  });

  it('at the first write (EINVAL): that write and all later ones are left to the page cache', async () => {
    let writes = 0;
    let closed = false;
    const direct = await DirectWrites.open('/any', async () => ({
      write: async () => {
        writes++;
        throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
      },
      close: async () => {
        closed = true;
      },
    }));
    expect(await direct.write(allocateAligned(BUFFER_ALIGNMENT), 0)).toBe(false);
    expect(await direct.write(allocateAligned(BUFFER_ALIGNMENT), 0)).toBe(false);
    expect([writes, closed, direct.active]).toEqual([1, true, false]);
  });

  it('any other error (a full disk) goes to the caller, no other way is tried', async () => {
    const direct = await DirectWrites.open('/any', async () => ({
      write: async () => {
        throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
      },
      close: async () => undefined,
    }));
    await expect(direct.write(allocateAligned(BUFFER_ALIGNMENT), 0)).rejects.toMatchObject({
      code: 'ENOSPC',
    });
    expect(direct.active).toBe(true);
  });
});
