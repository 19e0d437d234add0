/**
 * One download of a file per folder at a time (`name.part.lock`): a second one, from this
 * process or another, is refused with IN_PROGRESS while the first runs; a lock left by a dead
 * process is taken over, by exactly one of those who find it; lock files are never shared.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FileServer } from '../../peer/file-server.ts';
import { FolderCatalog, listSharedFiles } from '../../peer/shared-folder.ts';
import { download } from '../../peer/transfer/download.ts';
import { LOCK_GRACE_MS } from '../../peer/transfer/download-lock.ts';
import { isNapError } from '../../shared/errors.ts';
import { killAll, runCli, startServer } from '../helpers/cli.ts';
import { closeFileSources, fileSource } from '../helpers/file-source.ts';
import { exists, makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { LineClient } from '../helpers/line-client.ts';
import { waitUntil } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const servers: FileServer[] = [];
const children = new Set<ReturnType<typeof spawn>>();

afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  await killAll();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await closeFileSources();
  await removeTempDirs();
});

/**
 * test/helpers/lock-holder.ts in its own process, ready to take the lock: `go()` makes it try,
 * `said` is what it got (`held` or `refused CODE`), closing its stdin releases the lock.
 */
async function lockHolder(partPath: string, file: string) {
  const child = spawn(
    process.execPath,
    ['--import', TSX, path.join(HERE, '..', 'helpers', 'lock-holder.ts'), partPath, file],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  children.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const lines = readline.createInterface({ input: child.stdout });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      void exited.then(() => reject(new Error('lock-holder exited before saying what it got')));
    });
  expect(await next()).toBe('ready');
  const said = next();
  said.catch(() => undefined);
  return { child, said, exited, go: () => child.stdin?.write('go\n') };
}

/** The pid of a process that has exited: what a crashed downloader leaves in its lock. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

describe('one download of a file per folder', () => {
  it('in one process: the second is refused at once with IN_PROGRESS, the first ends verified', async () => {
    const size = 8 * MiB;
    const { sha, source } = await fileSource('a.bin', size, { rate: 20e6 });
    const into = await makeTempDir();
    const first = download({ sources: [source], file: 'a.bin', folder: into });
    await waitUntil(() => exists(path.join(into, 'a.bin.part.lock')), 'the first download holds the lock');
    const second = await download({ sources: [source], file: 'a.bin', folder: into }).catch(
      (e: unknown) => e,
    );
    expect(second).toSatisfy((error) => isNapError(error, 'IN_PROGRESS'));
    expect((second as Error).message).toBe(
      'a.bin is already being downloaded into this folder by this peer (see a.bin.part.lock); DOWNLOAD it again once that download ends.',
    );
    expect((await first).sha256).toBe(sha);
    expect(await sha256File(path.join(into, 'a.bin'))).toBe(sha);
    expect(await fs.readdir(into)).toEqual(['a.bin']);
  });

  it('in two CLI processes: the second DOWNLOAD prints one sentence and the peer goes on; the first succeeds', async () => {
    const root = await makeTempDir();
    for (const dir of ['up', 'down']) await fs.mkdir(path.join(root, dir));
    const sha = await writeRandomFile(path.join(root, 'up', 'a.bin'), 24 * MiB);
    const { port } = await startServer();
    const server = ['--server', `127.0.0.1:${port}`];
    const uploader = runCli('peer', [...server, '--max-upload-rate', '10MB'], { cwd: root });
    uploader.send('JOIN 127.0.0.1 0 up');
    const uploaderPort = /:(\d+)/.exec(await uploader.waitFor('Sou peer'))?.[1];
    // Both peers are up (joined, searched) before the first DOWNLOAD starts.
    const [first, second] = [runCli('peer', server, { cwd: root }), runCli('peer', server, { cwd: root })];
    for (const peer of [first, second]) {
      peer.send('JOIN 127.0.0.1 0 down');
      peer.send('SEARCH a.bin');
      await peer.waitFor('peers com arquivo solicitado:');
    }
    first.send(`DOWNLOAD 127.0.0.1 ${uploaderPort}`);
    await waitUntil(() => exists(path.join(root, 'down', 'a.bin.part.lock')), 'the first CLI holds the lock');
    second.send(`DOWNLOAD 127.0.0.1 ${uploaderPort}`);
    second.send('SEARCH a.bin');
    expect(await second.end()).toBe(1);
    expect(second.stderr).toEqual([
      `a.bin is already being downloaded into this folder by process ${first.child.pid} (see a.bin.part.lock); DOWNLOAD it again once that download ends.`,
    ]);
    // The next command worked: its SEARCH line is there after the refusal.
    expect(second.stdout.filter((line) => line.startsWith('peers com arquivo solicitado:'))).toHaveLength(2);
    expect(await first.end()).toBe(0);
    expect(first.stdout.at(-1)).toBe('Arquivo a.bin baixado com sucesso na pasta down');
    expect(await sha256File(path.join(root, 'down', 'a.bin'))).toBe(sha);
    expect(await fs.readdir(path.join(root, 'down'))).toEqual(['a.bin']);
  }, 60_000);

  it('a lock held by another live process refuses; once that process is killed, its lock is taken over', async () => {
    const { sha, source } = await fileSource('a.bin', MiB);
    const into = await makeTempDir();
    const part = path.join(into, 'a.bin.part');
    const holder = await lockHolder(part, 'a.bin');
    holder.go();
    expect(await holder.said).toBe('held');
    await expect(download({ sources: [source], file: 'a.bin', folder: into })).rejects.toThrow(
      `a.bin is already being downloaded into this folder by process ${holder.child.pid} (see a.bin.part.lock); DOWNLOAD it again once that download ends.`,
    );
    holder.child.kill('SIGKILL');
    await holder.exited;
    expect(await fs.readFile(`${part}.lock`, 'utf8')).toBe(`${holder.child.pid}\n`);
    expect((await download({ sources: [source], file: 'a.bin', folder: into })).sha256).toBe(sha);
    expect(await fs.readdir(into)).toEqual(['a.bin']);
  });

  it('a stale lock found by several processes at once is taken over by exactly one of them', async () => {
    const into = await makeTempDir();
    const part = path.join(into, 'a.bin.part');
    for (let round = 0; round < 4; round++) {
      await fs.writeFile(`${part}.lock`, `${await deadPid()}\n`);
      const holders = await Promise.all(Array.from({ length: 4 }, () => lockHolder(part, 'a.bin')));
      // All at once, so that they find the stale lock together.
      for (const holder of holders) holder.go();
      const said = await Promise.all(holders.map((holder) => holder.said));
      expect(
        said.filter((line) => line === 'held'),
        `round ${round}: ${said.join(', ')}`,
      ).toHaveLength(1);
      expect(said.filter((line) => line === 'refused IN_PROGRESS')).toHaveLength(3);
      for (const holder of holders) holder.child.stdin?.end();
      await Promise.all(holders.map((holder) => holder.exited));
      expect(await fs.readdir(into), `round ${round}`).toEqual([]);
    }
  }, 60_000);

  it('a lock without a pid is one being written while fresh, and stale once old', async () => {
    const { sha, source } = await fileSource('a.bin', MiB);
    const into = await makeTempDir();
    const lock = path.join(into, 'a.bin.part.lock');
    await fs.writeFile(lock, '');
    await expect(download({ sources: [source], file: 'a.bin', folder: into })).rejects.toSatisfy((error) =>
      isNapError(error, 'IN_PROGRESS'),
    );
    const old = (Date.now() - LOCK_GRACE_MS - 1000) / 1000;
    await fs.utimes(lock, old, old);
    expect((await download({ sources: [source], file: 'a.bin', folder: into })).sha256).toBe(sha);
    expect(await fs.readdir(into)).toEqual(['a.bin']);
  });

  it('lock files are never listed nor served', async () => {
    const dir = await makeTempDir();
    await writeRandomFile(path.join(dir, 'a.bin'), 100);
    for (const name of ['a.bin.part', 'a.bin.part.lock', 'a.bin.part.lock.takeover'])
      await fs.writeFile(path.join(dir, name), '4242\n');
    expect(await listSharedFiles(dir)).toEqual(['a.bin']);
    const server = await FileServer.start({ host: '127.0.0.1', port: 0, catalog: new FolderCatalog(dir) });
    servers.push(server);
    for (const name of ['a.bin.part.lock', 'a.bin.part.lock.takeover']) {
      const client = await LineClient.connect(server.port);
      expect(await client.request({ type: 'DOWNLOAD', file: name }), name).toMatchObject({
        type: 'DOWNLOAD_REJECTED',
        reason: 'NOT_FOUND',
      });
      client.close();
    }
  });
});
