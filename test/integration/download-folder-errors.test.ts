/**
 * What a download does when its own folder fails — a full disk, no permission, a read-only file
 * system, the folder removed: one sentence with a stable code that says what is kept, and the
 * peer takes the next command. Real file systems where the test may make them (tmpfs as root).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../peer/rate-limiter.ts';
import { PeerSession } from '../../peer/session.ts';
import type { Progress } from '../../peer/transfer/download.ts';
import { isNapError } from '../../shared/errors.ts';
import { CliProcess, programCommand } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, sha256File } from '../helpers/files.ts';
import { startIndexAndUploader } from '../helpers/index-and-uploader.ts';
import { canMountTmpfs, type DiskKind, mountTmpfs, smallDisk, unmount } from '../helpers/small-disk.ts';

const MiB = 1024 * 1024;
const closers: (() => Promise<void> | void)[] = [];
const MOUNTS = await canMountTmpfs();
const AS_ROOT = process.getuid?.() === 0;

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await removeTempDirs();
});

/** An index server, an uploader sharing `name` (random, `size` bytes) and a downloading session. */
async function network(name: string, size: number, options: { rate?: number } = {}) {
  const { server, uploaderPort, sha } = await startIndexAndUploader(
    closers,
    { name, size },
    { limiter: options.rate ? new RateLimiter(options.rate) : undefined },
  );
  let onProgress: (progress: Progress) => void = () => {};
  const printed: string[] = [];
  const session = new PeerSession({
    server,
    print: (line) => printed.push(line),
    progress: { update: (_file, progress) => onProgress(progress), stop: () => {}, close: () => {} },
  });
  closers.push(() => session.close());
  return {
    sha,
    server,
    uploaderPort,
    session,
    printed,
    watch: (callback: (progress: Progress) => void) => {
      onProgress = callback;
    },
  };
}

const diskKinds: DiskKind[] = MOUNTS ? ['tmpfs', 'injected'] : ['injected'];

describe.each(diskKinds)('a full disk (%s)', (kind) => {
  it('DISK_FULL says what is kept; once space is freed, the next DOWNLOAD resumes and verifies', async () => {
    const net = await network('big.bin', 6 * MiB);
    // 8 MiB, 3 of them taken: the first 4 MiB piece fits, the second (2 MiB) does not.
    const disk = await smallDisk(kind, 8 * MiB, 3 * MiB);
    closers.push(() => disk.remove());
    await net.session.join('127.0.0.1', 0, disk.dir);
    await net.session.search('big.bin');
    const failure = await net.session
      .download('127.0.0.1', net.uploaderPort)
      .catch((error: unknown) => error);
    expect(failure).toSatisfy((error) => isNapError(error, 'DISK_FULL'));
    expect((failure as Error).message).toBe(
      'The disk is full: 1 of 2 pieces of big.bin are kept in big.bin.part; free some space and DOWNLOAD again to resume.',
    );
    expect((await fs.readdir(disk.dir)).sort()).toEqual(['big.bin.part', 'filler']);
    await disk.free();
    await net.session.search('big.bin');
    await net.session.download('127.0.0.1', net.uploaderPort);
    expect(net.printed.at(-1)).toBe(`Arquivo big.bin baixado com sucesso na pasta ${disk.dir}`);
    expect(await sha256File(path.join(disk.dir, 'big.bin'))).toBe(net.sha);
    expect(await fs.readdir(disk.dir)).toEqual(['big.bin']);
  });
});

describe('a read-only folder', () => {
  it.runIf(MOUNTS)(
    'READ_ONLY, nothing kept; the peer downloads once the file system is writable',
    async () => {
      const net = await network('a.bin', MiB);
      const dir = await makeTempDir('napshare-ro-');
      mountTmpfs(dir, 'size=4m,ro');
      closers.push(() => unmount(dir));
      await net.session.join('127.0.0.1', 0, dir);
      await net.session.search('a.bin');
      const failure = await net.session
        .download('127.0.0.1', net.uploaderPort)
        .catch((error: unknown) => error);
      expect(failure).toSatisfy((error) => isNapError(error, 'READ_ONLY'));
      expect((failure as Error).message).toBe(
        `The folder ${dir} is on a read-only file system: nothing of a.bin is kept; JOIN with a folder that can be written to and DOWNLOAD again.`,
      );
      mountTmpfs(dir, 'remount,rw');
      await net.session.download('127.0.0.1', net.uploaderPort);
      expect(await sha256File(path.join(dir, 'a.bin'))).toBe(net.sha);
    },
  );
});

describe('a folder the peer may not write in', () => {
  it('through the CLI: PERMISSION_DENIED in one sentence, and the next command works', async () => {
    const net = await network('a.bin', MiB);
    const root = await makeTempDir();
    const down = path.join(root, 'down');
    await fs.mkdir(down);
    // Root may write anywhere: the peer then runs as nobody, in a folder it may only read.
    await fs.chmod(root, 0o755);
    await fs.chmod(down, 0o555);
    const [node, ...nodeArgs] = programCommand('peer') as [string, ...string[]];
    const peer = new CliProcess(
      spawn(node, [...nodeArgs, '--server', `127.0.0.1:${net.server.port}`], {
        cwd: root,
        env: { ...process.env, INIT_CWD: undefined, NO_COLOR: '1', HOME: root },
        stdio: 'pipe',
        ...(AS_ROOT ? { uid: 65534, gid: 65534 } : {}),
      }),
    );
    peer.send('JOIN 127.0.0.1 0 down');
    peer.send('SEARCH a.bin');
    peer.send(`DOWNLOAD 127.0.0.1 ${net.uploaderPort}`);
    peer.send('SEARCH a.bin');
    expect(await peer.end()).toBe(1);
    expect(peer.stderr).toEqual([
      // The folder as typed at JOIN, not quoted, not made absolute.
      'napshare may not write in the folder down (permission denied): nothing of a.bin is kept; allow it to write there, or JOIN with another folder, and DOWNLOAD again.',
    ]);
    expect(peer.stdout.slice(1)).toEqual([
      `peers com arquivo solicitado: 127.0.0.1:${net.uploaderPort}`,
      `peers com arquivo solicitado: 127.0.0.1:${net.uploaderPort}`,
    ]);
    expect(await fs.readdir(down)).toEqual([]);
  }, 30_000);
});

describe('the folder removed during the download', () => {
  it('FOLDER_GONE, nothing kept; the peer takes the next commands and downloads into a new folder', async () => {
    const size = 24 * MiB;
    const net = await network('a.bin', size, { rate: 30e6 });
    const folder = await makeTempDir();
    // Typed with a trailing separator: the sentence repeats it as typed.
    await net.session.join('127.0.0.1', 0, `${folder}${path.sep}`);
    await net.session.search('a.bin');
    let removed = false;
    net.watch(({ done }) => {
      if (!removed && done > size / 3) {
        removed = true;
        void fs.rm(folder, { recursive: true, force: true });
      }
    });
    const failure = await net.session
      .download('127.0.0.1', net.uploaderPort)
      .catch((error: unknown) => error);
    expect(removed).toBe(true);
    expect(failure).toSatisfy((error) => isNapError(error, 'FOLDER_GONE'));
    expect((failure as Error).message).toBe(
      `The folder ${folder}${path.sep} is gone (removed during the download): nothing of a.bin is kept; JOIN with an existing folder and DOWNLOAD again.`,
    );
    net.watch(() => {});
    const next = await makeTempDir();
    await net.session.join('127.0.0.1', 0, next);
    await net.session.search('a.bin');
    await net.session.download('127.0.0.1', net.uploaderPort);
    expect(await sha256File(path.join(next, 'a.bin'))).toBe(net.sha);
  });
});
