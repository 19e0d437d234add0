/**
 * A download whose SHA-256 thread dies (peer/transfer/thread-hash.ts) ends with a clear sentence,
 * never hangs, and keeps its `.part`: the next DOWNLOAD of the same peer process, on a new
 * thread, resumes from it and ends verified. The real CLI, its thread stopped by the test hook
 * NAPSHARE_TEST_STOP_HASH_THREAD_AFTER (docs/testing.md).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerSession } from '../../peer/session.ts';
import { IndexServer } from '../../server/index-server.ts';
import { killAll, runCli } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';

const MiB = 1024 * 1024;
const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await killAll();
  for (const close of closers.splice(0).reverse()) await close();
  await removeTempDirs();
});

describe('the SHA-256 thread dies during a download', () => {
  it('the DOWNLOAD fails in one sentence that keeps the .part; the next one resumes and verifies', async () => {
    const index = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
    closers.push(() => index.close());
    const server = { host: '127.0.0.1', port: index.address().port };
    const shared = await makeTempDir();
    // Four 4 MiB pieces: seven 2 MiB units hashed, the thread stopped after the third.
    const size = 12 * MiB + 5;
    const sha = await writeRandomFile(path.join(shared, 'a.bin'), size);
    const uploader = new PeerSession({ server, print: () => {} });
    closers.push(() => uploader.close());
    await uploader.join('127.0.0.1', 0, shared);
    const into = await makeTempDir();
    const peer = runCli('peer', ['--server', `127.0.0.1:${server.port}`, '--verbose'], {
      env: { NAPSHARE_TEST_STOP_HASH_THREAD_AFTER: '3' },
    });
    peer.send(`JOIN 127.0.0.1 0 ${into}`);
    peer.send('SEARCH a.bin');
    peer.send(`DOWNLOAD 127.0.0.1 ${uploader.joined?.port}`);
    const failure = await peer.waitFor(/^The SHA-256 thread stopped/, 'stderr');
    expect(failure).toMatch(
      /^The SHA-256 thread stopped \(exit code 1\); (no verified piece of a\.bin is kept yet|[1-3] of 4 pieces of a\.bin are kept in a\.bin\.part), DOWNLOAD again to resume\.$/,
    );
    // What arrived stays for the next DOWNLOAD (checked again then); nothing under the name.
    expect((await fs.stat(path.join(into, 'a.bin.part'))).size).toBeGreaterThan(0);
    expect(await fs.readdir(into)).not.toContain('a.bin');

    peer.send('SEARCH a.bin');
    peer.send(`DOWNLOAD 127.0.0.1 ${uploader.joined?.port}`);
    await peer.waitFor(`Arquivo a.bin baixado com sucesso na pasta ${into}`);
    expect(peer.stderr.some((line) => /resuming: [1-4] verified pieces/.test(line))).toBe(true);
    // Line mode exits 1 when any command failed (here the first DOWNLOAD).
    expect(await peer.end()).toBe(1);
    expect(await sha256File(path.join(into, 'a.bin'))).toBe(sha);
    expect(await fs.readdir(into)).toEqual(['a.bin']);
  });
});
