/**
 * A shared file that changes while it is being sent: the uploader notices (size, modification
 * time, inode), cuts that transfer rather than send bytes of two versions, and refuses the
 * downloader's next request for the old version (CHANGED); the downloader asks INFO again and
 * ends with one consistent version, verified.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileServer } from '../../peer/file-server.ts';
import { RateLimiter } from '../../peer/rate-limiter.ts';
import { FolderCatalog } from '../../peer/shared-folder.ts';
import { download } from '../../peer/transfer/download.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { LineClient } from '../helpers/line-client.ts';

const MiB = 1024 * 1024;
const servers: FileServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await removeTempDirs();
});

async function serve(folder: string, rate?: number) {
  const logs: string[] = [];
  const server = await FileServer.start({
    host: '127.0.0.1',
    port: 0,
    catalog: new FolderCatalog(folder),
    limiter: rate ? new RateLimiter(rate) : undefined,
    log: (line) => logs.push(line),
  });
  servers.push(server);
  return { server, logs };
}

/** Writes `data` at `position` of the file, in place (the same inode: its mtime changes). */
function overwrite(filePath: string, position: number, data: Buffer): void {
  const fd = openSync(filePath, 'r+');
  try {
    writeSync(fd, data, 0, data.length, position);
  } finally {
    closeSync(fd);
  }
}

describe('a shared file that changes during an upload', () => {
  it.each([
    [
      'written to in place',
      (file: string, size: number) => {
        overwrite(file, 0, randomBytes(MiB));
        overwrite(file, size - MiB, randomBytes(MiB));
      },
    ],
    // Cut past where the uploader can have read by then (a few MiB sent, two 2 MiB chunks and the
    // sockets' buffers ahead), so its check after a chunk finds the change, not a short read.
    ['shrunk', (file: string) => truncateSync(file, 20 * MiB + 3)],
  ])(
    '%s: the transfer is cut, and the download ends with the new version, verified',
    async (_what, change) => {
      const size = 24 * MiB + 5;
      const dir = await makeTempDir();
      const file = path.join(dir, 'c.bin');
      const original = await writeRandomFile(file, size);
      const { server, logs: uploaderLogs } = await serve(dir, 20e6);
      // Hashed before the download starts, so the change can only be found by the sending side
      // (a hash pass still reading the file would find it first: test/integration/streamed-info).
      await (await LineClient.connect(server.port)).request({ type: 'INFO', file: 'c.bin' });
      const into = await makeTempDir();
      const logs: string[] = [];
      let changed = false;
      const result = await download({
        sources: [{ host: '127.0.0.1', port: server.port }],
        file: 'c.bin',
        folder: into,
        log: (line) => logs.push(line),
        onProgress: ({ done }) => {
          if (!changed && done > size / 8) {
            changed = true;
            change(file, size);
          }
        },
      });
      expect(changed).toBe(true);
      const now = await sha256File(file);
      expect(now).not.toBe(original);
      expect(result).toMatchObject({ verified: true, sha256: now });
      expect(await sha256File(path.join(into, 'c.bin'))).toBe(now);
      expect(
        uploaderLogs.some((line) =>
          line.endsWith('c.bin changed while it was being sent; the transfer is cut.'),
        ),
      ).toBe(true);
      expect(logs).toContain('c.bin changed at its source during the download; asking INFO again');
      expect(await fs.readdir(into)).toEqual(['c.bin']);
    },
  );

  it('replaced by another file (a rename over it): the copy being sent stays the one it started from', async () => {
    const size = 16 * MiB;
    const dir = await makeTempDir();
    const file = path.join(dir, 'c.bin');
    const original = await writeRandomFile(file, size);
    const { server } = await serve(dir, 20e6);
    const into = await makeTempDir();
    let replaced = false;
    const result = await download({
      sources: [{ host: '127.0.0.1', port: server.port }],
      file: 'c.bin',
      folder: into,
      onProgress: ({ done }) => {
        if (!replaced && done > size / 3) {
          replaced = true;
          writeFileSync(path.join(dir, 'new.tmp'), randomBytes(size));
          renameSync(path.join(dir, 'new.tmp'), file);
        }
      },
    });
    expect(replaced).toBe(true);
    // One version, whole: the one that was being sent, verified against its own INFO.
    expect(result.sha256).toBe(original);
    expect(await sha256File(path.join(into, 'c.bin'))).toBe(original);
  });
});

describe('the version of INFO_OK', () => {
  it('is sent back with DOWNLOAD; a file changed since is refused with CHANGED', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'c.bin');
    await writeRandomFile(file, 1000);
    const { server } = await serve(dir);
    const info = await (await LineClient.connect(server.port)).request({ type: 'INFO', file: 'c.bin' });
    expect(info.version).toMatch(/^1000-\d+-\d+$/);
    const same = await LineClient.connect(server.port);
    expect(await same.request({ type: 'DOWNLOAD', file: 'c.bin', version: info.version })).toEqual({
      type: 'DOWNLOAD_OK',
      size: 1000,
    });
    same.close();
    overwrite(file, 10, Buffer.from('changed'));
    const stale = await LineClient.connect(server.port);
    expect(await stale.request({ type: 'DOWNLOAD', file: 'c.bin', version: info.version })).toEqual({
      type: 'DOWNLOAD_REJECTED',
      reason: 'CHANGED',
      message: 'c.bin changed since its INFO; ask INFO again.',
    });
    // Without a version (another implementation), it is simply served as it is now.
    const plain = await LineClient.connect(server.port);
    expect(await plain.request({ type: 'DOWNLOAD', file: 'c.bin' })).toEqual({
      type: 'DOWNLOAD_OK',
      size: 1000,
    });
    plain.close();
    // And a new INFO describes the new version.
    const again = await (await LineClient.connect(server.port)).request({ type: 'INFO', file: 'c.bin' });
    expect(again.version).not.toBe(info.version);
    expect(again.sha256).not.toBe(info.sha256);
  });
});
