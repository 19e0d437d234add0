/**
 * Resume after a crash, with real processes: the uploader is killed (SIGKILL) at random points of
 * a download, a new uploader is started, and the next download continues from the `.part`; a
 * killed downloader process is resumed by a new one. Every run must end with the right SHA-256
 * and never a file under the final name before that.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { download } from '../../peer/transfer/download.ts';
import { isNapError } from '../../shared/errors.ts';
import { killAll, runCli, startServer } from '../helpers/cli.ts';
import { exists, makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { runSeed, seededRandom } from '../helpers/seed.ts';
import { waitUntil } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const children = new Set<ReturnType<typeof spawn>>();
/** Where the kill points fall: fixed for this run, printed, replayable (NAPSHARE_TEST_SEED). */
const SEED = runSeed('transfer-resume');
/** What the uploader processes wrote on stderr (warnings included): nothing, in a good run. */
const uploaderStderr: string[] = [];

/**
 * Starts test/helpers/uploader.ts serving `folder` (capped at `rate` B/s, 0 for no cap); resolves
 * with it and its port.
 */
async function startUploader(folder: string, rate: number) {
  const child = spawn(
    process.execPath,
    ['--import', TSX, path.join(HERE, '..', 'helpers', 'uploader.ts'), folder, String(rate)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.stderr.on('data', (chunk: Buffer) => uploaderStderr.push(chunk.toString()));
  const firstLine = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) =>
      reject(new Error(`uploader exited with ${code}: ${uploaderStderr.join('')}`)),
    );
  });
  return { child, port: Number(firstLine) };
}

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await killAll();
  await removeTempDirs();
});

describe('resume after a crash', () => {
  it('uploader killed at 10 random points: every resumed download ends with the right SHA-256', async () => {
    const size = 24 * MiB + 4321;
    const source = await makeTempDir();
    const sha = await writeRandomFile(path.join(source, 'video.mp4'), size);
    const seed = SEED;
    const next = seededRandom(seed);
    let interrupted = 0;
    for (let round = 0; round < 10; round++) {
      const into = await makeTempDir();
      const finalPath = path.join(into, 'video.mp4');
      // Anywhere in the first three quarters: bytes already in flight may still arrive after the kill.
      const point = Math.floor(next() * 0.75 * size);
      const uploader = await startUploader(source, 60e6);
      const exited = new Promise((resolve) => uploader.child.once('exit', resolve));
      let killed = false;
      const outcome = await download({
        sources: [{ host: '127.0.0.1', port: uploader.port }],
        file: 'video.mp4',
        folder: into,
        onProgress: ({ done }) => {
          if (!killed && done >= point) {
            killed = true;
            uploader.child.kill('SIGKILL');
          }
        },
      }).catch((error: unknown) => error);
      uploader.child.kill('SIGKILL');
      await exited;
      if (isNapError(outcome)) {
        interrupted++;
        expect(await exists(finalPath), `seed ${seed}: a final file after a kill`).toBe(false);
        const kept = (await fs.stat(`${finalPath}.part`).catch(() => null))?.size ?? 0;
        // Resume from another uploader process: only what is missing crosses the network.
        const resumer = await startUploader(source, 0);
        const result = await download({
          sources: [{ host: '127.0.0.1', port: resumer.port }],
          file: 'video.mp4',
          folder: into,
        });
        resumer.child.kill('SIGKILL');
        expect(result.transferred, `seed ${seed}`).toBeLessThanOrEqual(size - kept + 4 * MiB);
      }
      expect(await sha256File(finalPath), `seed ${seed}, round ${round}`).toBe(sha);
      expect(await fs.readdir(into)).toEqual(['video.mp4']);
    }
    expect(interrupted, `seed ${seed}`).toBeGreaterThanOrEqual(8);
    // Capped and uncapped uploaders alike ran without a warning (an uncapped one has no limiter).
    expect(uploaderStderr.join('')).toBe('');
  });

  it('a killed downloader process is resumed by the next one, from another peer', async () => {
    const root = await makeTempDir();
    for (const dir of ['a', 'b', 'c']) await fs.mkdir(path.join(root, dir));
    const size = 40 * MiB + 99;
    const sha = await writeRandomFile(path.join(root, 'a', 'aula.mp4'), size);
    await fs.copyFile(path.join(root, 'a', 'aula.mp4'), path.join(root, 'b', 'aula.mp4'));
    const { port } = await startServer();
    const server = ['--server', `127.0.0.1:${port}`];
    const holderA = runCli('peer', [...server, '--max-upload-rate', '30MB'], { cwd: root });
    holderA.send('JOIN 127.0.0.1 0 a');
    const portA = /:(\d+)/.exec(await holderA.waitFor('Sou peer'))?.[1];
    const holderB = runCli('peer', server, { cwd: root });
    holderB.send('JOIN 127.0.0.1 0 b');
    const portB = /:(\d+)/.exec(await holderB.waitFor('Sou peer'))?.[1];

    const first = runCli('peer', server, { cwd: root });
    first.send('JOIN 127.0.0.1 0 c');
    first.send('SEARCH aula.mp4');
    first.send(`DOWNLOAD 127.0.0.1 ${portA}`);
    const part = path.join(root, 'c', 'aula.mp4.part');
    await waitUntil(
      async () => ((await fs.stat(part).catch(() => null))?.size ?? 0) > 8 * MiB,
      'the .part holds 8 MiB',
    );
    first.kill('SIGKILL');
    await first.exited;
    const kept = (await fs.stat(part)).size;
    expect(kept).toBeLessThan(size);
    expect(await exists(path.join(root, 'c', 'aula.mp4'))).toBe(false);

    const second = runCli('peer', [...server, '--verbose'], { cwd: root });
    second.send('JOIN 127.0.0.1 0 c');
    second.send('SEARCH aula.mp4');
    second.send(`DOWNLOAD 127.0.0.1 ${portB}`);
    await second.waitFor('Arquivo aula.mp4 baixado com sucesso na pasta c');
    expect(await second.end()).toBe(0);
    expect(second.stderr.some((line) => line.includes('resuming'))).toBe(true);
    expect(await sha256File(path.join(root, 'c', 'aula.mp4'))).toBe(sha);
    expect(await exists(part)).toBe(false);
  });
});
