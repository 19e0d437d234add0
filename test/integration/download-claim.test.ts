/**
 * Nothing is ever written over a file: the final name is claimed with a hard link (or, without
 * hard links, an exclusive create), so a file that appears during a download wins, the verified
 * `.part` stays, and the next DOWNLOAD finishes from it at once.
 */
import { writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { download } from '../../peer/transfer/download.ts';
import { claimFinalName, type LinkFunction } from '../../peer/transfer/final-name.ts';
import { isNapError } from '../../shared/errors.ts';
import { closeFileSources, fileSource } from '../helpers/file-source.ts';
import { makeTempDir, removeTempDirs, sha256File } from '../helpers/files.ts';

const MiB = 1024 * 1024;

afterEach(async () => {
  await closeFileSources();
  await removeTempDirs();
});

/** A stand-in for fs.link on a file system without hard links (FAT32, exFAT give EPERM). */
const noHardLinks: LinkFunction = () =>
  Promise.reject(Object.assign(new Error('operation not permitted, link'), { code: 'EPERM' }));

describe.each([
  ['with hard links', undefined],
  ['on a file system without hard links', noHardLinks],
])('the final name, %s', (_what, link) => {
  it('a file written under the name during the download wins; the verified .part finishes the next DOWNLOAD at once', async () => {
    const size = 12 * MiB + 3;
    const { sha, source } = await fileSource('v.bin', size, { rate: 30e6 });
    const into = await makeTempDir();
    const finalPath = path.join(into, 'v.bin');
    let written = false;
    const failure = await download({
      sources: [source],
      file: 'v.bin',
      folder: into,
      link,
      onProgress: ({ done }) => {
        // The user saves a file of their own under that name while the download runs.
        if (!written && done > size / 3) {
          written = true;
          writeFileSync(finalPath, 'mine');
        }
      },
    }).catch((error: unknown) => error);
    expect(written).toBe(true);
    expect(failure).toSatisfy((error) => isNapError(error, 'EXISTS'));
    expect((failure as Error).message).toBe(
      'v.bin appeared in the folder during the download and is left as it is; the verified copy is kept in v.bin.part: move the other v.bin away and DOWNLOAD again to finish at once.',
    );
    expect(await fs.readFile(finalPath, 'utf8')).toBe('mine');
    expect(await sha256File(`${finalPath}.part`)).toBe(sha);
    expect((await fs.readdir(into)).sort()).toEqual(['v.bin', 'v.bin.part']);

    // Still there: refused before anything is asked, and the .part is said to be kept.
    await expect(download({ sources: [source], file: 'v.bin', folder: into, link })).rejects.toThrow(
      'v.bin is already in the folder and is left as it is; the copy downloaded so far is kept in v.bin.part: move v.bin away and DOWNLOAD again to finish from it.',
    );
    await fs.rename(finalPath, path.join(into, 'mine.bin'));
    const result = await download({ sources: [source], file: 'v.bin', folder: into, link });
    expect(result.transferred).toBe(0);
    expect(await sha256File(finalPath)).toBe(sha);
    expect(await fs.readFile(path.join(into, 'mine.bin'), 'utf8')).toBe('mine');
    expect((await fs.readdir(into)).sort()).toEqual(['mine.bin', 'v.bin']);
  });

  it('a download with nothing in the way takes the name and leaves no .part', async () => {
    const { sha, source } = await fileSource('w.bin', 2 * MiB);
    const into = await makeTempDir();
    await download({ sources: [source], file: 'w.bin', folder: into, link });
    expect(await sha256File(path.join(into, 'w.bin'))).toBe(sha);
    expect(await fs.readdir(into)).toEqual(['w.bin']);
  });
});

describe('claimFinalName', () => {
  it.each([
    ['with hard links', undefined],
    ['without hard links', noHardLinks],
  ])('%s: never replaces an existing file, of any kind, and keeps the .part', async (_what, link) => {
    const dir = await makeTempDir();
    const part = path.join(dir, 'a.bin.part');
    await fs.writeFile(part, 'complete');
    const targets: [string, () => Promise<void>][] = [
      ['a file', () => fs.writeFile(path.join(dir, 'a.bin'), 'theirs')],
      ['a folder', () => fs.mkdir(path.join(dir, 'a.bin'))],
      ['a symbolic link', () => fs.symlink(path.join(dir, 'elsewhere'), path.join(dir, 'a.bin'))],
    ];
    for (const [kind, make] of targets) {
      await make();
      await expect(
        claimFinalName(part, path.join(dir, 'a.bin'), { verified: false, link }),
        kind,
      ).rejects.toThrow(
        /^a\.bin appeared in the folder during the download and is left as it is; the complete \(unverified\) copy is kept in a\.bin\.part: /,
      );
      expect(await fs.readFile(part, 'utf8'), kind).toBe('complete');
      await fs.rm(path.join(dir, 'a.bin'), { recursive: true });
    }
    await expect(fs.lstat(path.join(dir, 'elsewhere'))).rejects.toThrow();
    await claimFinalName(part, path.join(dir, 'a.bin'), { verified: true, link });
    expect(await fs.readFile(path.join(dir, 'a.bin'), 'utf8')).toBe('complete');
    expect(await fs.readdir(dir)).toEqual(['a.bin']);
  });
});
