/**
 * Seed 003 asks for videos of more than 1 GB: one random-content file of 1.1 GiB moves between
 * two CLI peers and arrives intact (SHA-256), never read whole into memory on either side.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, runCli, startServer } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';

afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('a file larger than 1 GiB', () => {
  it('arrives intact between two CLI peers', async () => {
    const root = await makeTempDir();
    await fs.mkdir(path.join(root, 'p1'));
    await fs.mkdir(path.join(root, 'p2'));
    const size = Math.round(1.1 * 1024 ** 3);
    const sha = await writeRandomFile(path.join(root, 'p1', 'aula.mp4'), size);
    const { server, port } = await startServer();
    const uploader = runCli('peer', ['--server', `127.0.0.1:${port}`], { cwd: root });
    uploader.send('JOIN 127.0.0.1 0 p1');
    const uploaderPort = /:(\d+)/.exec(await uploader.waitFor('Sou peer'))?.[1];
    const downloader = runCli('peer', ['--server', `127.0.0.1:${port}`], { cwd: root });
    downloader.send('JOIN 127.0.0.1 0 p2');
    downloader.send('SEARCH aula.mp4');
    downloader.send(`DOWNLOAD 127.0.0.1 ${uploaderPort}`);
    expect(await downloader.end()).toBe(0);
    expect(downloader.stdout.at(-1)).toBe('Arquivo aula.mp4 baixado com sucesso na pasta p2');
    expect(downloader.stderr).toEqual([]);
    expect((await fs.stat(path.join(root, 'p2', 'aula.mp4'))).size).toBe(size);
    expect(await sha256File(path.join(root, 'p2', 'aula.mp4'))).toBe(sha);
    await uploader.end();
    server.kill('SIGINT');
    await server.exited;
  }, 180_000);
});
