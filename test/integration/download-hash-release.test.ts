/**
 * A download lets go of every running hash it made on the SHA-256 thread (thread-hash.ts), however
 * it ends: verified, on a full disk (a piece's write fails before it is verified), cancelled. Each
 * one left behind would stay in that thread for the life of the process. Counted on the thread
 * itself (liveHashesForTests), around real downloads over 127.0.0.1.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { download } from '../../peer/transfer/download.ts';
import type { ExpectedHashes } from '../../peer/transfer/expected-hashes.ts';
import { Transfer } from '../../peer/transfer/piece-transfer.ts';
import { liveHashesForTests, ThreadHash } from '../../peer/transfer/thread-hash.ts';
import { isNapError } from '../../shared/errors.ts';
import { closeFileSources, fileSource } from '../helpers/file-source.ts';
import { makeTempDir, removeTempDirs, sha256File } from '../helpers/files.ts';
import { canMountTmpfs, type DiskKind, smallDisk } from '../helpers/small-disk.ts';

const MiB = 1024 * 1024;
const closers: (() => Promise<void> | void)[] = [];
const MOUNTS = await canMountTmpfs();

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await closeFileSources();
  await removeTempDirs();
});

describe('the running hashes of a download are let go', () => {
  it('when it ends verified', async () => {
    const { sha, source } = await fileSource('a.bin', 9 * MiB + 3);
    const into = await makeTempDir();
    const before = await liveHashesForTests();
    await download({ sources: [source], file: 'a.bin', folder: into });
    expect(await liveHashesForTests()).toBe(before);
    expect(await sha256File(path.join(into, 'a.bin'))).toBe(sha);
  });

  describe.each<DiskKind>(MOUNTS ? ['tmpfs', 'injected'] : ['injected'])('on a full disk (%s)', (kind) => {
    it('when the write of a piece fails before it is verified (its copy of the prefix chain)', async () => {
      // Written before the disk is made: the injected kind fails every file write past its room.
      const { source } = await fileSource('big.bin', 6 * MiB);
      // 5 MiB free: the first piece (two 2 MiB units) fits, the second piece's only unit does not.
      const disk = await smallDisk(kind, 8 * MiB, 3 * MiB);
      closers.push(() => disk.remove());
      const before = await liveHashesForTests();
      const failure = await download({ sources: [source], file: 'big.bin', folder: disk.dir }).catch(
        (error: unknown) => error,
      );
      expect(failure).toSatisfy((error) => isNapError(error, 'DISK_FULL'));
      expect(await liveHashesForTests()).toBe(before);
    });
  });

  it('when it is cancelled during the transfer', async () => {
    const size = 24 * MiB;
    const { source } = await fileSource('c.bin', size, { rate: 30e6 });
    const into = await makeTempDir();
    const cancel = new AbortController();
    const before = await liveHashesForTests();
    const failure = await download({
      sources: [source],
      file: 'c.bin',
      folder: into,
      signal: cancel.signal,
      onProgress: ({ done }) => {
        if (done > size / 3) cancel.abort();
      },
    }).catch((error: unknown) => error);
    expect(failure).toSatisfy((error) => isNapError(error, 'CANCELLED'));
    expect(await liveHashesForTests()).toBe(before);
  });

  it('when prefix hashes are refused for a .part that holds pieces (the scan started a running hash)', async () => {
    const before = await liveHashesForTests();
    const expected = { kind: 'prefixes', size: 8 * MiB, pieceSize: 4 * MiB, pieceCount: 2 } as ExpectedHashes;
    const scan = { have: [true, false], partialBytes: 0, chain: ThreadHash.create() };
    const part = { path: '/nowhere/x.part' } as ConstructorParameters<typeof Transfer>[2];
    expect(
      () =>
        new Transfer(
          { sources: [], file: 'x', folder: '/nowhere' },
          expected,
          part,
          scan,
          [{ host: '127.0.0.1', port: 9 }],
          () => {},
        ),
    ).toThrow(/Prefix hashes check only a fresh download from one source/);
    expect(await liveHashesForTests()).toBe(before);
  });
});
