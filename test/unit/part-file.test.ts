/**
 * The `.part` file of a download on its own, on real temp files: what the resume scan keeps
 * (only pieces whose SHA-256 matches), what it measures of a cut download, and that the file
 * takes its final name complete and exactly its size.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { piecesOf } from '../../peer/transfer/expected-hashes.ts';
import { PartFile } from '../../peer/transfer/part-file.ts';
import { isNapError } from '../../shared/errors.ts';
import type { FileInfo } from '../../shared/transfer-protocol.ts';
import { exists, makeTempDir, removeTempDirs } from '../helpers/files.ts';

afterAll(removeTempDirs);

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A file of `size` random bytes in pieces of `pieceSize`, and its INFO. */
function fileOf(size: number, pieceSize: number): { data: Buffer; info: FileInfo } {
  const data = randomBytes(size);
  const pieces: string[] = [];
  for (let start = 0; start < size; start += pieceSize)
    pieces.push(sha256(data.subarray(start, start + pieceSize)));
  return { data, info: { size, sha256: sha256(data), pieceSize, pieces } };
}

async function partWith(bytes: Buffer | null): Promise<string> {
  const partPath = path.join(await makeTempDir(), 'f.bin.part');
  if (bytes) await fs.writeFile(partPath, bytes);
  return partPath;
}

describe('PartFile: the resume scan', () => {
  it('creates a missing .part and finds nothing in it', async () => {
    const { info } = fileOf(40, 16);
    const partPath = await partWith(null);
    const { part, scan } = await PartFile.open(partPath, piecesOf(info));
    expect(scan).toEqual({ have: [false, false, false], partialBytes: 0 });
    expect(await exists(partPath)).toBe(true);
    // Nothing was written: closing removes it, so no empty .part is left behind.
    await part.close();
    expect(await exists(partPath)).toBe(false);
  });

  it('keeps the pieces whose SHA-256 matches and refetches any other, wherever it is', async () => {
    const { data, info } = fileOf(64, 16);
    const bytes = Buffer.from(data);
    bytes[16 + 5] = (bytes[16 + 5] as number) ^ 0xff; // piece 1 corrupted by one byte
    bytes[63] = (bytes[63] as number) ^ 0x01; // the last byte of piece 3 too
    const { part, scan } = await PartFile.open(await partWith(bytes), piecesOf(info));
    expect(scan).toEqual({ have: [true, false, true, false], partialBytes: 0 });
    await part.close();
  });

  it('accepts no piece of another file of the same size', async () => {
    const { info } = fileOf(48, 16);
    const { data: other } = fileOf(48, 16);
    const { part, scan } = await PartFile.open(await partWith(other), piecesOf(info));
    expect(scan.have).toEqual([false, false, false]);
    await part.close();
  });

  it('a cut download: whole verified pieces kept, the bytes of the piece it stopped in counted', async () => {
    const { data, info } = fileOf(50, 16);
    const { part, scan } = await PartFile.open(await partWith(data.subarray(0, 16 + 7)), piecesOf(info));
    expect(scan).toEqual({ have: [true, false, false, false], partialBytes: 7 });
    await part.close();
  });

  it('counts no partial bytes behind a bad piece (they could not be streamed on from there)', async () => {
    const { data, info } = fileOf(50, 16);
    const bytes = Buffer.from(data.subarray(0, 16 + 7));
    bytes[0] = (bytes[0] as number) ^ 0xff;
    const { part, scan } = await PartFile.open(await partWith(bytes), piecesOf(info));
    expect(scan).toEqual({ have: [false, false, false, false], partialBytes: 0 });
    await part.close();
  });

  it('checks a short last piece over its own length', async () => {
    const { data, info } = fileOf(37, 16);
    const { part, scan } = await PartFile.open(await partWith(data), piecesOf(info));
    expect(scan).toEqual({ have: [true, true, true], partialBytes: 0 });
    await part.close();
  });

  it('cuts a .part longer than the file back to its size, keeping the pieces it holds', async () => {
    const { data, info } = fileOf(32, 16);
    const partPath = await partWith(Buffer.concat([data, randomBytes(100)]));
    const { part, scan } = await PartFile.open(partPath, piecesOf(info));
    expect(scan).toEqual({ have: [true, true], partialBytes: 0 });
    expect((await fs.stat(partPath)).size).toBe(32);
    await part.close();
  });

  it('reads pieces bigger than the bytes on disk without reading past them', async () => {
    const { data, info } = fileOf(100, 64);
    const { part, scan } = await PartFile.open(await partWith(data.subarray(0, 10)), piecesOf(info));
    expect(scan).toEqual({ have: [false, false], partialBytes: 10 });
    await part.close();
  });

  it('rethrows what is not a missing file (a folder in the way)', async () => {
    const { info } = fileOf(16, 16);
    const dir = await makeTempDir();
    await expect(PartFile.open(dir, piecesOf(info))).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('PartFile: writing and finishing', () => {
  it('writes pieces at their place, reads them back, and takes the final name complete', async () => {
    const { data, info } = fileOf(40, 16);
    const partPath = await partWith(null);
    const { part } = await PartFile.open(partPath, piecesOf(info));
    // Out of order, as several sources deliver them.
    await part.write(data.subarray(32), 32);
    await part.write(data.subarray(0, 16), 0);
    await part.write(data.subarray(16, 32), 16);
    expect(await part.read(10, 20)).toEqual(data.subarray(10, 30));
    const finalPath = path.join(path.dirname(partPath), 'f.bin');
    await part.finish(finalPath);
    expect(await fs.readFile(finalPath)).toEqual(data);
    expect(await exists(partPath)).toBe(false);
  });

  it('finishes at exactly the file size, even over a longer leftover', async () => {
    const { data, info } = fileOf(20, 16);
    const partPath = await partWith(null);
    const { part } = await PartFile.open(partPath, piecesOf(info));
    await part.write(Buffer.concat([data, Buffer.from('trailing junk')]), 0);
    const finalPath = path.join(path.dirname(partPath), 'f.bin');
    await part.finish(finalPath);
    expect(await fs.readFile(finalPath)).toEqual(data);
  });

  it('finishes an empty file as an empty file', async () => {
    const { info } = fileOf(0, 16);
    const partPath = await partWith(null);
    const { part, scan } = await PartFile.open(partPath, piecesOf(info));
    expect(scan).toEqual({ have: [], partialBytes: 0 });
    const finalPath = path.join(path.dirname(partPath), 'empty.bin');
    await part.finish(finalPath);
    expect((await fs.stat(finalPath)).size).toBe(0);
  });

  it('refuses to read past what is on disk with an IO error', async () => {
    const { data, info } = fileOf(40, 16);
    const { part } = await PartFile.open(await partWith(data.subarray(0, 8)), piecesOf(info));
    let caught: unknown;
    await part.read(4, 8).catch((error: unknown) => {
      caught = error;
    });
    expect(isNapError(caught, 'IO')).toBe(true);
    expect((caught as Error).message).toMatch(/is shorter than expected/);
    await part.close();
  });

  it('keeps a .part that holds bytes when closed, for a later resume', async () => {
    const { data, info } = fileOf(40, 16);
    const partPath = await partWith(null);
    const { part } = await PartFile.open(partPath, piecesOf(info));
    await part.write(data.subarray(0, 16), 0);
    await part.close();
    expect(await fs.readFile(partPath)).toEqual(data.subarray(0, 16));
    // And the next open finds that piece.
    const again = await PartFile.open(partPath, piecesOf(info));
    expect(again.scan.have).toEqual([true, false, false]);
    await again.part.close();
  });
});
