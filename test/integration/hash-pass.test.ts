/** The uploader's pass over a file (peer/hash-pass.ts): prefix and piece hashes, published as they come. */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HashPass } from '../../peer/hash-pass.ts';
import { makeTempDir, removeTempDirs } from '../helpers/files.ts';

afterEach(removeTempDirs);

const PIECE = 3 * 1024 * 1024 + 17;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function fileOf(content: Buffer): Promise<fs.FileHandle> {
  const file = path.join(await makeTempDir(), 'f.bin');
  await fs.writeFile(file, content);
  return fs.open(file, 'r');
}

describe('HashPass', () => {
  it('computes the prefix hashes (the last one the SHA-256) and, asked, the piece hashes; each published as it comes', async () => {
    const content = randomBytes(2 * PIECE + 5);
    const ends = [PIECE, 2 * PIECE, 2 * PIECE + 5];
    const handle = await fileOf(content);
    const pass = new HashPass(content.length, PIECE, 'v', true);
    const seen: number[] = [];
    pass.watch(() => seen.push(pass.prefixes.length));
    await pass.run(handle, async () => true);
    await handle.close();
    expect(pass.prefixes).toEqual(ends.map((end) => sha256(content.subarray(0, end))));
    expect(pass.pieces).toEqual(ends.map((end, i) => sha256(content.subarray(i * PIECE, end))));
    expect(pass.sha256).toBe(sha256(content));
    expect(await pass.finishedPromise()).toBe(sha256(content));
    // One notice per piece, then one at the end.
    expect(seen).toEqual([1, 2, 3, 3]);
  });

  it('publishes every result even when the version checks lag behind the hashing thread (which ends first)', async () => {
    const content = randomBytes(3 * PIECE);
    const handle = await fileOf(content);
    const pass = new HashPass(content.length, PIECE, 'v', false);
    // Each check takes longer than the thread needs to hash the whole file and exit.
    await pass.run(handle, () => new Promise((resolve) => setTimeout(() => resolve(true), 50)));
    await handle.close();
    expect(pass.failure).toBeUndefined();
    expect(pass.prefixes).toHaveLength(3);
    expect(pass.sha256).toBe(sha256(content));
  });

  it('for a streamed INFO computes the prefix hashes only (one SHA-256 over the file)', async () => {
    const content = randomBytes(PIECE + 1);
    const handle = await fileOf(content);
    const pass = new HashPass(content.length, PIECE, 'v', false);
    await pass.run(handle, async () => true);
    await handle.close();
    expect(pass.pieces).toBeUndefined();
    expect(pass.prefixes).toEqual([sha256(content.subarray(0, PIECE)), sha256(content)]);
  });

  it('stops with CHANGED when the file is another version after a piece: no SHA-256 is ever given', async () => {
    const content = randomBytes(3 * PIECE);
    const handle = await fileOf(content);
    const pass = new HashPass(content.length, PIECE, 'v', false);
    let checks = 0;
    // The version holds at the start and after the first piece, then the file "changed".
    await pass.run(handle, async () => ++checks <= 2);
    await handle.close();
    expect(pass.prefixes).toHaveLength(1);
    expect(pass.sha256).toBeUndefined();
    expect(pass.failure).toMatchObject({ code: 'CHANGED' });
    await expect(pass.finishedPromise()).rejects.toMatchObject({ code: 'CHANGED' });
  });

  it('stops with CHANGED when the file is shorter than its version said', async () => {
    const content = randomBytes(PIECE);
    const handle = await fileOf(content);
    const pass = new HashPass(content.length + 10, PIECE, 'v', false);
    await pass.run(handle, async () => true);
    await handle.close();
    expect(pass.failure).toMatchObject({ code: 'CHANGED' });
  });

  it('of an empty file: no prefix hash, the SHA-256 of nothing', async () => {
    const handle = await fileOf(Buffer.alloc(0));
    const pass = new HashPass(0, PIECE, 'v', true);
    await pass.run(handle, async () => true);
    await handle.close();
    expect([pass.prefixes, pass.pieces, pass.sha256]).toEqual([[], [], sha256(Buffer.alloc(0))]);
  });
});
