/**
 * Seed 003 asks for videos of more than 1 GB: one random-content file of 1.1 GiB moves between
 * two CLI peers and arrives intact (SHA-256), never read whole into memory on either side: each
 * process's peak resident memory (Linux's VmHWM, a high-water mark, so no peak is missed between
 * samples) stays far below the file's size.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, runCli, startServer } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { peakRssOf } from '../helpers/peak-rss.ts';

const MiB = 1024 * 1024;
/**
 * A peer process peaks at about 90 MiB whatever the file's size (docs/performance.md): Node, tsx
 * and two 4 MiB piece buffers or send chunks. Reading the 1.1 GiB file whole would pass 1.1 GiB.
 */
const MAX_PEER_RSS_BYTES = 256 * MiB;

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
    await downloader.waitFor('Arquivo aula.mp4 baixado com sucesso', 'stdout', 150_000);
    // Both processes are still running: their high-water marks cover the whole transfer.
    const peaks = {
      uploader: await peakRssOf(uploader.child.pid as number),
      downloader: await peakRssOf(downloader.child.pid as number),
    };
    console.log(
      `peak RSS for a ${(size / MiB).toFixed(0)} MiB transfer: uploader ${(peaks.uploader / MiB).toFixed(0)} MiB, downloader ${(peaks.downloader / MiB).toFixed(0)} MiB`,
    );
    expect(peaks.uploader).toBeLessThan(MAX_PEER_RSS_BYTES);
    expect(peaks.downloader).toBeLessThan(MAX_PEER_RSS_BYTES);
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
