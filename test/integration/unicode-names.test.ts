/**
 * Names compare as exact code points (seed 003: SEARCH is an exact match): two files whose names
 * differ only by Unicode normalisation are both shared, found and downloaded as two files.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerSession } from '../../peer/session.ts';
import { IndexServer } from '../../server/index-server.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';

const NFC = 'caf\u00e9.txt'; // é as one code point
const NFD = 'cafe\u0301.txt'; // e, then the combining acute accent

const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await removeTempDirs();
});

describe('names that differ only by Unicode normalisation', () => {
  it('are two files: both shared, each SEARCH finds its own, each DOWNLOAD gets its own bytes', async (context) => {
    const folder = await makeTempDir();
    const nfc = await writeRandomFile(path.join(folder, NFC), 3000);
    const nfd = await writeRandomFile(path.join(folder, NFD), 5000);
    // A file system that normalises names (macOS) keeps one file for both: nothing to test there.
    if ((await fs.readdir(folder)).length !== 2) context.skip();

    const server = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
    closers.push(() => server.close());
    const peer = (printed: string[]) => {
      const session = new PeerSession({
        server: { host: '127.0.0.1', port: server.address().port },
        print: (line) => printed.push(line),
        notice: () => {},
      });
      closers.push(() => session.close());
      return session;
    };
    const sharerLines: string[] = [];
    const sharer = peer(sharerLines);
    await sharer.join('127.0.0.1', 0, folder);
    const at = `127.0.0.1:${sharer.joined?.port}`;
    // Sorted by code unit: "cafe\u0301" (e = 0x65) comes before "caf\u00e9".
    expect(sharerLines).toEqual([`Sou peer ${at} com arquivos ${NFD} ${NFC}`]);

    const downloads = await makeTempDir();
    const lines: string[] = [];
    const downloader = peer(lines);
    await downloader.join('127.0.0.1', 0, downloads);
    for (const [name, digest] of [
      [NFC, nfc],
      [NFD, nfd],
    ] as const) {
      expect(await downloader.search(name)).toEqual([at]);
      await downloader.download('127.0.0.1', sharer.joined?.port as number);
      expect(await sha256File(path.join(downloads, name))).toBe(digest);
    }
    expect(await downloader.search('cafe.txt')).toEqual([]);
    expect((await fs.readdir(downloads)).sort()).toEqual([NFD, NFC]);
  });
});
