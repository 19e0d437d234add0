/**
 * Resuming from a `.part` never trusts its bytes: the scan of peer/transfer/part-file.ts hashes
 * every piece on disk against INFO's piece hashes, keeps the good ones and fetches the others.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileServer } from '../../peer/file-server.ts';
import { FolderCatalog } from '../../peer/shared-folder.ts';
import { download } from '../../peer/transfer/download.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';

const MiB = 1024 * 1024;
const PIECE = 4 * MiB;
const servers: FileServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
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

describe('a resumed .part whose pieces were corrupted', () => {
  it('re-verifies every piece: the corrupted ones are fetched again, the good ones are not', async () => {
    const size = 5 * PIECE + 3; // six pieces, the last one of 3 bytes
    const dir = await makeTempDir();
    const sha = await writeRandomFile(path.join(dir, 'r.bin'), size);
    const server = await FileServer.start({ host: '127.0.0.1', port: 0, catalog: new FolderCatalog(dir) });
    servers.push(server);
    const into = await makeTempDir();
    const part = path.join(into, 'r.bin.part');
    // An interrupted download: the first 4.5 pieces on disk, then pieces 1 and 3 damaged (a bad
    // disk, another program): one byte each, the size unchanged.
    await fs.copyFile(path.join(dir, 'r.bin'), part);
    await fs.truncate(part, 4 * PIECE + MiB / 2);
    await corrupt(part, PIECE + 12345);
    await corrupt(part, 3 * PIECE + PIECE - 1);
    const logs: string[] = [];
    const result = await download({
      sources: [{ host: '127.0.0.1', port: server.port }],
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
    const dir = await makeTempDir();
    const sha = await writeRandomFile(path.join(dir, 'r.bin'), size);
    const server = await FileServer.start({ host: '127.0.0.1', port: 0, catalog: new FolderCatalog(dir) });
    servers.push(server);
    const into = await makeTempDir();
    const part = path.join(into, 'r.bin.part');
    await fs.copyFile(path.join(dir, 'r.bin'), part);
    await corrupt(part, size - 1);
    const result = await download({
      sources: [{ host: '127.0.0.1', port: server.port }],
      file: 'r.bin',
      folder: into,
    });
    expect(result.transferred).toBe(100);
    expect(await sha256File(path.join(into, 'r.bin'))).toBe(sha);
  });
});
