/**
 * What a peer's folder shares: its regular files, never what a symbolic link points to — a link
 * may lead out of the folder (to /etc, to another user's files). Checked on the catalog and over a
 * real file server: DOWNLOAD, INFO and LIST.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileServer } from '../../peer/file-server.ts';
import { FolderCatalog, listSharedFiles } from '../../peer/shared-folder.ts';
import { makeTempDir, removeTempDirs, writeRandomFile } from '../helpers/files.ts';

const servers: FileServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await removeTempDirs();
});

/** A shared folder with one regular file and links out of it (to a file and to a folder) and in it. */
async function folderWithLinks() {
  const outside = await makeTempDir('napshare-outside-');
  const secret = Buffer.from('not yours to download\n');
  await fs.writeFile(path.join(outside, 'secret.txt'), secret);
  const folder = await makeTempDir('napshare-shared-');
  await writeRandomFile(path.join(folder, 'real.bin'), 1000);
  await fs.symlink(path.join(outside, 'secret.txt'), path.join(folder, 'escape.txt'));
  await fs.symlink(outside, path.join(folder, 'outside-folder'));
  await fs.symlink(path.join(folder, 'real.bin'), path.join(folder, 'alias.bin'));
  return { folder, secret };
}

/** Sends one request line and returns every byte the server sends until it closes. */
function exchange(port: number, request: object): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () =>
      socket.write(`${JSON.stringify(request)}\n`),
    );
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

describe('symbolic links in a shared folder', () => {
  it('are neither listed nor found: only regular files are shared', async () => {
    const { folder } = await folderWithLinks();
    expect(await listSharedFiles(folder)).toEqual(['real.bin']);
    const catalog = new FolderCatalog(folder);
    expect(await catalog.list()).toEqual(['real.bin']);
    expect(await catalog.find('real.bin')).toMatchObject({ size: 1000 });
    for (const name of ['escape.txt', 'outside-folder', 'alias.bin'])
      await expect(catalog.find(name), name).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('are never served: DOWNLOAD and INFO of a link out of the folder get NOT_FOUND, LIST omits it', async () => {
    const { folder, secret } = await folderWithLinks();
    const server = await FileServer.start({ host: '127.0.0.1', port: 0, catalog: new FolderCatalog(folder) });
    servers.push(server);
    for (const type of ['DOWNLOAD', 'INFO']) {
      const reply = await exchange(server.port, { type, file: 'escape.txt' });
      expect(reply.includes(secret), type).toBe(false);
      expect(JSON.parse(reply.toString()), type).toEqual({
        type: 'DOWNLOAD_REJECTED',
        reason: 'NOT_FOUND',
        message: 'No shared file named "escape.txt".',
      });
    }
    expect((await exchange(server.port, { type: 'LIST' })).toString()).toBe(
      '{"type":"LIST_OK","files":["real.bin"]}\n',
    );
  });
});
