/**
 * A download whose SHA-256 thread dies (peer/transfer/thread-hash.ts) resumes from its `.part` on
 * a new thread, once, without blaming its source; if that thread dies too, it ends with a clear
 * sentence, never hangs, and keeps its `.part`: the next DOWNLOAD of the same peer process resumes
 * from it and ends verified. The real CLI, its threads stopped by the test hooks
 * NAPSHARE_TEST_STOP_HASH_THREAD_AFTER and NAPSHARE_TEST_STOP_HASH_THREADS (docs/testing.md).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, runCli } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, sha256File } from '../helpers/files.ts';
import { startIndexAndUploader } from '../helpers/index-and-uploader.ts';

const MiB = 1024 * 1024;
const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await killAll();
  for (const close of closers.splice(0).reverse()) await close();
  await removeTempDirs();
});

/** An index, an uploader sharing a 12 MiB random file (four 4 MiB pieces: seven 2 MiB units), and a CLI peer. */
async function setup(env: NodeJS.ProcessEnv) {
  const { server, uploaderPort, sha } = await startIndexAndUploader(closers, {
    name: 'a.bin',
    size: 12 * MiB + 5,
  });
  const into = await makeTempDir();
  const peer = runCli('peer', ['--server', `127.0.0.1:${server.port}`, '--verbose'], { env });
  peer.send(`JOIN 127.0.0.1 0 ${into}`);
  peer.send('SEARCH a.bin');
  return { peer, into, sha, download: `DOWNLOAD 127.0.0.1 ${uploaderPort}` };
}

describe('the SHA-256 thread dies during a download', () => {
  it('once: the same DOWNLOAD resumes from its .part on a new thread and ends verified, no source blamed', async () => {
    const { peer, into, sha, download } = await setup({ NAPSHARE_TEST_STOP_HASH_THREAD_AFTER: '3' });
    peer.send(download);
    await peer.waitFor(`Arquivo a.bin baixado com sucesso na pasta ${into}`);
    // --verbose: the restart is said, once (the exit code is the one terminate() reports).
    const restarts = peer.stderr.filter((line) => line.includes('on a new thread'));
    expect(restarts).toHaveLength(1);
    expect(restarts[0]).toMatch(
      /^\[peer\] The SHA-256 thread stopped \(exit code \d+\); resuming a\.bin from its \.part on a new thread$/,
    );
    // The uploader did nothing wrong: it is neither blamed nor dropped.
    expect(
      peer.stderr.filter((line) => /Not asking it again|^\[peer\] 127\.0\.0\.1:\d+: /.test(line)),
    ).toEqual([]);
    // Every command succeeded: line mode exits 0.
    expect(await peer.end()).toBe(0);
    expect(await sha256File(path.join(into, 'a.bin'))).toBe(sha);
    expect(await fs.readdir(into)).toEqual(['a.bin']);
  });

  it('twice: the DOWNLOAD fails in one sentence that keeps the .part; the next one resumes and verifies', async () => {
    const { peer, into, sha, download } = await setup({
      NAPSHARE_TEST_STOP_HASH_THREAD_AFTER: '3',
      NAPSHARE_TEST_STOP_HASH_THREADS: '2',
    });
    peer.send(download);
    const failure = await peer.waitFor(/^The SHA-256 thread stopped \(exit code \d+\); /, 'stderr');
    // Lost in the transfer (what it keeps, in pieces) or while the .part was checked (in bytes).
    expect(failure).toMatch(
      /^The SHA-256 thread stopped \(exit code \d+\); (no verified piece of a\.bin is kept yet|[1-3] of 4 pieces of a\.bin are kept in a\.bin\.part|a\.bin\.part \(\d+ bytes\) is kept), DOWNLOAD again to resume\.$/,
    );
    // One restart, not a loop.
    expect(peer.stderr.filter((line) => line.includes('on a new thread'))).toHaveLength(1);
    // What arrived stays for the next DOWNLOAD (checked again then); nothing under the name.
    expect((await fs.stat(path.join(into, 'a.bin.part'))).size).toBeGreaterThan(0);
    expect(await fs.readdir(into)).not.toContain('a.bin');

    peer.send('SEARCH a.bin');
    peer.send(download);
    await peer.waitFor(`Arquivo a.bin baixado com sucesso na pasta ${into}`);
    expect(peer.stderr.some((line) => /resuming: [1-4] verified pieces/.test(line))).toBe(true);
    // Line mode exits 1 when any command failed (here the first DOWNLOAD).
    expect(await peer.end()).toBe(1);
    expect(await sha256File(path.join(into, 'a.bin'))).toBe(sha);
    expect(await fs.readdir(into)).toEqual(['a.bin']);
  });
});
