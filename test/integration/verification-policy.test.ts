/**
 * Verification that no error can downgrade: a source that must be verified (it announced INFO,
 * or it is a napshare peer) and then fails INFO in any way is never fetched unverified — the
 * download fails with one sentence, or succeeds verified. Real sockets, hostile uploaders.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileServer, type FileServerLimits } from '../../peer/file-server.ts';
import { IndexClient } from '../../peer/index-client.ts';
import { FolderCatalog } from '../../peer/shared-folder.ts';
import { download } from '../../peer/transfer/download.ts';
import { INFO_ATTEMPTS, INFO_TIMEOUT_ATTEMPTS } from '../../peer/transfer/source-info.ts';
import { NAPSHARE_CAPS } from '../../shared/capabilities.ts';
import { isNapError } from '../../shared/errors.ts';
import { killAll, runCli, startServer } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { type InfoFailure, startHostileUploader } from '../helpers/hostile-uploader.ts';

const MiB = 1024 * 1024;
const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await killAll();
  await removeTempDirs();
});

async function hostile(how: InfoFailure, size = 3 * MiB) {
  const uploader = await startHostileUploader(how, randomBytes(size));
  closers.push(uploader.close);
  return uploader;
}

describe('a source that must be verified and fails INFO', () => {
  it.each([
    // how it fails, the code of the download's error, INFO attempts made (retried: it may pass)
    [
      'closes the INFO connection (then sends wrong bytes to DOWNLOAD)',
      'close',
      'CONNECTION_CLOSED',
      INFO_ATTEMPTS,
    ],
    ['answers a malformed INFO_OK (size a string)', 'malformed', 'PROTOCOL', 1],
    ['refuses INFO (then sends wrong bytes to DOWNLOAD)', 'refuse', 'PROTOCOL', 1],
    ['never answers INFO', 'silent', 'TIMEOUT', INFO_TIMEOUT_ATTEMPTS],
  ] as const)(
    '%s: a clear error, never a DOWNLOAD, nothing in the folder',
    async (_what, how, code, attempts) => {
      const uploader = await hostile(how);
      const into = await makeTempDir();
      const failure = await download({
        sources: [{ host: '127.0.0.1', port: uploader.port }],
        file: 'v.bin',
        folder: into,
        infoTimeoutMs: 300,
        infoRetryDelayMs: 20,
      }).catch((error: unknown) => error);
      expect(failure).toSatisfy((error) => isNapError(error, code));
      const message = (failure as Error).message;
      expect(message).toMatch(
        new RegExp(
          `^v\\.bin was not downloaded, as nothing unverified is saved: its peer 127\\.0\\.0\\.1:${uploader.port} must give piece hashes \\(INFO\\) and did not \\(.+\\)\\.$`,
        ),
      );
      expect(message.split('\n')).toHaveLength(1);
      expect(uploader.requests.map((request) => request.type)).toEqual(Array(attempts).fill('INFO'));
      expect(await fs.readdir(into)).toEqual([]);
    },
  );

  it('several sources: one that fails INFO is left out, the others verify the file', async () => {
    const { dir, sha } = await folderWith('v.bin', 9 * MiB);
    const honest = await serve(dir);
    const liar = await hostile('close', 9 * MiB);
    const into = await makeTempDir();
    const result = await download({
      sources: [liar.port, honest.port].map((port) => ({ host: '127.0.0.1', port })),
      file: 'v.bin',
      folder: into,
      infoRetryDelayMs: 20,
    });
    expect(result).toMatchObject({ verified: true, sha256: sha });
    expect(result.usedSources.map((source) => source.port)).toEqual([honest.port]);
    expect(liar.requests.every((request) => request.type === 'INFO')).toBe(true);
    expect(await sha256File(path.join(into, 'v.bin'))).toBe(sha);
  });

  it('through the CLI: a lying peer that announced INFO, closes INFO and sends wrong bytes gets no success line', async () => {
    const root = await makeTempDir();
    await fs.mkdir(path.join(root, 'mine'));
    const liar = await hostile('close', MiB);
    const { port } = await startServer();
    // The liar joins the index as napshare peers do: with the INFO capability.
    const index = await IndexClient.connect('127.0.0.1', port, { heartbeat: false });
    closers.push(() => index.close());
    await index.join('127.0.0.1', liar.port, ['v.bin'], undefined, NAPSHARE_CAPS);
    const peer = runCli('peer', ['--server', `127.0.0.1:${port}`], { cwd: root });
    peer.send('JOIN 127.0.0.1 0 mine');
    peer.send('SEARCH v.bin');
    peer.send(`DOWNLOAD 127.0.0.1 ${liar.port}`);
    expect(await peer.end()).toBe(1);
    expect(peer.stdout).toEqual([
      expect.stringMatching(/^Sou peer 127\.0\.0\.1:\d+ com arquivos$/),
      `peers com arquivo solicitado: 127.0.0.1:${liar.port}`,
    ]);
    expect(peer.stderr).toEqual([
      expect.stringMatching(
        /^v\.bin was not downloaded, as nothing unverified is saved: .*\(4 attempts\)\)\.$/,
      ),
    ]);
    expect(liar.requests.map((request) => request.type)).toEqual(Array(INFO_ATTEMPTS).fill('INFO'));
    expect(await fs.readdir(path.join(root, 'mine'))).toEqual([]);
  });
});

describe('an honest uploader flooded with idle connections', () => {
  it('every download is verified: INFO refused by the flood is retried, never taken as "no INFO"', async () => {
    const { dir, sha } = await folderWith('f.bin', 2 * MiB + 17);
    // All 20 downloads come from 127.0.0.1: that address may use every upload slot here (by
    // default one address gets half of them), so the slots are not what this test measures.
    const server = await serve(dir, { maxUploadsPerIp: 8 });
    const flood = await idleFlood(server.port);
    const folders = await Promise.all(Array.from({ length: 20 }, () => makeTempDir()));
    let refused!: () => void;
    const firstRefusal = new Promise<void>((resolve) => (refused = resolve));
    const downloads = folders.map((folder) =>
      download({
        sources: [{ host: '127.0.0.1', port: server.port }],
        file: 'f.bin',
        folder,
        infoRetryDelayMs: 200,
        log: (line) => {
          if (line.includes('INFO attempt 1 failed')) refused();
        },
      }),
    );
    // The flood ends once it has made INFO fail: the retries then get through.
    await firstRefusal;
    for (const socket of flood) socket.destroy();
    const results = await Promise.all(downloads);
    for (const [i, result] of results.entries()) {
      expect(result.verified, `download ${i}`).toBe(true);
      expect(await sha256File(path.join(folders[i] as string, 'f.bin'))).toBe(sha);
    }
  }, 60_000);

  it('a flood that does not end: every download fails with one sentence, none is saved unverified', async () => {
    const { dir } = await folderWith('f.bin', MiB);
    const server = await serve(dir);
    await idleFlood(server.port);
    const folders = await Promise.all(Array.from({ length: 5 }, () => makeTempDir()));
    const outcomes = await Promise.all(
      folders.map((folder) =>
        download({
          sources: [{ host: '127.0.0.1', port: server.port }],
          file: 'f.bin',
          folder,
          infoRetryDelayMs: 20,
        }).catch((error: unknown) => error),
      ),
    );
    for (const [i, outcome] of outcomes.entries()) {
      // The server's per-address cap answers each attempt with BUSY and its reason, never a reset.
      expect(outcome, `download ${i}`).toSatisfy((error) => isNapError(error, 'BUSY'));
      expect((outcome as Error).message).toMatch(
        /^f\.bin was not downloaded, as nothing unverified is saved: .*already has 32 connections open here/,
      );
      expect(await fs.readdir(folders[i] as string)).toEqual([]);
    }
  }, 60_000);
});

/**
 * More idle connections (connected, no request) than a file server keeps open from one address
 * (32) or at all (256): it refuses the next ones with BUSY until these close or time out.
 * Destroyed after the test.
 */
async function idleFlood(port: number, count = 300): Promise<net.Socket[]> {
  const flood: net.Socket[] = [];
  closers.push(() => {
    for (const socket of flood) socket.destroy();
  });
  for (let i = 0; i < count; i++) {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    flood.push(socket);
  }
  return flood;
}

async function serve(folder: string, limits: Partial<FileServerLimits> = {}): Promise<FileServer> {
  const server = await FileServer.start({
    host: '127.0.0.1',
    port: 0,
    catalog: new FolderCatalog(folder),
    limits,
  });
  closers.push(() => server.close());
  return server;
}

async function folderWith(name: string, size: number): Promise<{ dir: string; sha: string }> {
  const dir = await makeTempDir();
  return { dir, sha: await writeRandomFile(path.join(dir, name), size) };
}
