/** The transfer engine against real file servers on 127.0.0.1: verification, failover, bounds. */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileServer } from '../../peer/file-server.ts';
import { RateLimiter } from '../../peer/rate-limiter.ts';
import { MAX_IN_FLIGHT, SEND_CHUNK_BYTES } from '../../peer/send-file.ts';
import { FolderCatalog } from '../../peer/shared-folder.ts';
import { download } from '../../peer/transfer/download.ts';
import { MAX_DOWNLOAD_SOURCES } from '../../peer/transfer/source-info.ts';
import { stopHashThreadForTests } from '../../peer/transfer/thread-hash.ts';
import { isNapError } from '../../shared/errors.ts';
import { exists, makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { startHeldUploader } from '../helpers/held-uploader.ts';
import { LineClient } from '../helpers/line-client.ts';
import { startLyingPeer } from '../helpers/lying-peer.ts';
import { startPlainPeer } from '../helpers/plain-peer.ts';
import { startStreamingUploader } from '../helpers/streaming-uploader.ts';

const MiB = 1024 * 1024;
const servers: FileServer[] = [];
const closers: (() => void)[] = [];

async function serve(
  folder: string,
  options: { rate?: number; maxUploads?: number } = {},
): Promise<FileServer> {
  const server = await FileServer.start({
    host: '127.0.0.1',
    port: 0,
    catalog: new FolderCatalog(folder),
    maxUploads: options.maxUploads,
    limiter: options.rate ? new RateLimiter(options.rate) : undefined,
  });
  servers.push(server);
  return server;
}

async function folderWith(name: string, size: number): Promise<{ dir: string; sha: string }> {
  const dir = await makeTempDir();
  return { dir, sha: await writeRandomFile(path.join(dir, name), size) };
}

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await removeTempDirs();
});

describe('single source', () => {
  it('downloads a file whose size is not a multiple of the piece size, verified', async () => {
    const { dir, sha } = await folderWith('a.bin', 9 * MiB + 7);
    const server = await serve(dir);
    const into = await makeTempDir();
    const result = await download({
      sources: [{ host: '127.0.0.1', port: server.port }],
      file: 'a.bin',
      folder: into,
    });
    expect(result.sha256).toBe(sha);
    expect(await sha256File(path.join(into, 'a.bin'))).toBe(sha);
    expect(await fs.readdir(into)).toEqual(['a.bin']);
  });

  it('downloads an empty file', async () => {
    const { dir, sha } = await folderWith('empty.txt', 0);
    const server = await serve(dir);
    const into = await makeTempDir();
    await download({ sources: [{ host: '127.0.0.1', port: server.port }], file: 'empty.txt', folder: into });
    expect(await sha256File(path.join(into, 'empty.txt'))).toBe(sha);
  });

  it('a rejected download leaves nothing behind: unknown file, existing file', async () => {
    const { dir } = await folderWith('a.bin', 1000);
    const server = await serve(dir);
    const into = await makeTempDir();
    const source = { host: '127.0.0.1', port: server.port };
    await expect(download({ sources: [source], file: 'nope.bin', folder: into })).rejects.toSatisfy((error) =>
      isNapError(error, 'NOT_FOUND'),
    );
    expect(await fs.readdir(into)).toEqual([]);
    await fs.writeFile(path.join(into, 'a.bin'), 'mine');
    await expect(download({ sources: [source], file: 'a.bin', folder: into })).rejects.toSatisfy((error) =>
      isNapError(error, 'EXISTS'),
    );
    expect(await fs.readFile(path.join(into, 'a.bin'), 'utf8')).toBe('mine');
  });

  it('a peer sending bytes that do not match its hashes is caught; nothing under the final name', async () => {
    const { dir: good } = await folderWith('v.bin', 6 * MiB);
    const { dir: bad } = await folderWith('v.bin', 6 * MiB);
    const liar = await startLyingPeer(path.join(good, 'v.bin'), path.join(bad, 'v.bin'));
    closers.push(liar.close);
    const into = await makeTempDir();
    await expect(
      download({ sources: [{ host: '127.0.0.1', port: liar.port }], file: 'v.bin', folder: into }),
    ).rejects.toSatisfy((error) => isNapError(error, 'INTEGRITY'));
    expect(await exists(path.join(into, 'v.bin'))).toBe(false);
  });
});

describe('a peer the index lists without INFO (speaks only DOWNLOAD)', () => {
  it('is downloaded from, unverified and said so, and never asked INFO', async () => {
    const { dir, sha } = await folderWith('p.bin', 3 * MiB + 1);
    const plain = await startPlainPeer(dir);
    closers.push(plain.close);
    const into = await makeTempDir();
    const logs: string[] = [];
    const result = await download({
      sources: [{ host: '127.0.0.1', port: plain.port, plain: true }],
      file: 'p.bin',
      folder: into,
      log: (line) => logs.push(line),
    });
    expect(result).toMatchObject({ verified: false, sha256: sha, size: 3 * MiB + 1 });
    expect(await sha256File(path.join(into, 'p.bin'))).toBe(sha);
    expect(logs.some((line) => line.includes('without verification'))).toBe(true);
    expect(plain.requests).toEqual([{ type: 'DOWNLOAD', file: 'p.bin' }]);
  });

  it('is never fetched unverified when it is not marked so: a clear error, and no DOWNLOAD sent', async () => {
    const { dir } = await folderWith('p.bin', MiB);
    const plain = await startPlainPeer(dir);
    closers.push(plain.close);
    const into = await makeTempDir();
    const failure = await download({
      sources: [{ host: '127.0.0.1', port: plain.port }],
      file: 'p.bin',
      folder: into,
    }).catch((error: unknown) => error);
    expect(failure).toSatisfy((error) => isNapError(error, 'PROTOCOL'));
    expect((failure as Error).message).toMatch(
      /^p\.bin was not downloaded, as nothing unverified is saved: /,
    );
    expect(plain.requests.map((request) => request.type)).toEqual(['INFO']);
    expect(await fs.readdir(into)).toEqual([]);
  });

  it('a cut transfer leaves the .part, and the next one continues from its size', async () => {
    const { dir, sha } = await folderWith('p.bin', 2 * MiB);
    const plain = await startPlainPeer(dir, { cutAfter: 700_000 });
    closers.push(plain.close);
    const into = await makeTempDir();
    const source = { host: '127.0.0.1', port: plain.port, plain: true };
    await expect(download({ sources: [source], file: 'p.bin', folder: into })).rejects.toSatisfy((error) =>
      isNapError(error, 'TRUNCATED'),
    );
    expect(await exists(path.join(into, 'p.bin'))).toBe(false);
    expect((await fs.stat(path.join(into, 'p.bin.part'))).size).toBe(700_000);
    const result = await download({ sources: [source], file: 'p.bin', folder: into });
    expect(result.transferred).toBe(2 * MiB - 700_000);
    // The SHA-256 reported covers the resumed prefix read back and the bytes streamed after it.
    expect(result.sha256).toBe(sha);
    expect(plain.requests.at(-1)).toEqual({ type: 'DOWNLOAD', file: 'p.bin', offset: 700_000 });
    expect(await sha256File(path.join(into, 'p.bin'))).toBe(sha);
  });

  it('is not used, not even contacted, when a source that gives piece hashes has the file', async () => {
    const { dir, sha } = await folderWith('p.bin', MiB);
    const plain = await startPlainPeer(dir);
    closers.push(plain.close);
    const napshare = await serve(dir);
    const into = await makeTempDir();
    const result = await download({
      sources: [
        { host: '127.0.0.1', port: plain.port, plain: true },
        { host: '127.0.0.1', port: napshare.port },
      ],
      file: 'p.bin',
      folder: into,
    });
    expect(result).toMatchObject({ verified: true, sha256: sha });
    expect(result.usedSources.map((source) => source.port)).toEqual([napshare.port]);
    expect(plain.requests).toEqual([]);
  });
});

describe('file server refusals', () => {
  it.each([
    ['{"type":"DOWNLOAD","file":"../secret"}', 'UNSAFE_NAME'],
    ['{"type":"DOWNLOAD","file":"missing.bin"}', 'NOT_FOUND'],
    ['{"type":"DOWNLOAD","file":"a.bin","offset":1001}', 'BAD_RANGE'],
    ['{"type":"DOWNLOAD","file":"a.bin","offset":10,"length":991}', 'BAD_RANGE'],
    ['{"type":"DOWNLOAD","file":"a.bin.part"}', 'NOT_FOUND'],
    ['{"type":"DOWNLOAD","file":7}', 'BAD_REQUEST'],
    ['garbage', 'BAD_REQUEST'],
  ])('%s -> %s', async (line, reason) => {
    const { dir } = await folderWith('a.bin', 1000);
    await fs.writeFile(path.join(dir, 'a.bin.part'), 'partial');
    const server = await serve(dir);
    const client = await LineClient.connect(server.port);
    client.send(`${line}\n`);
    expect(await client.json(0)).toMatchObject({ type: 'DOWNLOAD_REJECTED', reason });
    await client.closed;
  });

  it('serves exactly the bytes of a range asked: its reply line, then those bytes, then the end', async () => {
    const { dir } = await folderWith('a.bin', 9 * MiB + 7);
    const file = await fs.readFile(path.join(dir, 'a.bin'));
    const server = await serve(dir);
    // Across a 4 MiB send chunk, starting and ending off any boundary.
    const offset = MiB + 3;
    const length = 5 * MiB + 11;
    const received = await new Promise<Buffer>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port: server.port }, () =>
        socket.write(`{"type":"DOWNLOAD","file":"a.bin","offset":${offset},"length":${length}}\n`),
      );
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks)));
    });
    const header = `{"type":"DOWNLOAD_OK","size":${length}}\n`;
    expect(received.subarray(0, header.length).toString()).toBe(header);
    const body = received.subarray(header.length);
    expect(body.length).toBe(length);
    expect(body.equals(file.subarray(offset, offset + length))).toBe(true);
  });

  it('refuses with BUSY above its upload limit', async () => {
    const { dir } = await folderWith('a.bin', 32 * MiB);
    const server = await serve(dir, { maxUploads: 1 });
    const holder = await LineClient.connect(server.port);
    holder.socket.pause();
    holder.send({ type: 'DOWNLOAD', file: 'a.bin' });
    // The first upload is under way (its reply line is sent before any body byte).
    await new Promise<void>((resolve) => holder.socket.once('readable', () => resolve()));
    const second = await LineClient.connect(server.port);
    expect(await second.request({ type: 'DOWNLOAD', file: 'a.bin' })).toMatchObject({
      type: 'DOWNLOAD_REJECTED',
      reason: 'BUSY',
    });
    holder.close();
  });

  it("a slow reader keeps the uploader's buffered bytes bounded", async () => {
    const { dir } = await folderWith('big.bin', 96 * MiB);
    const server = await serve(dir);
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('{"type":"DOWNLOAD","file":"big.bin"}\n');
    let received = 0;
    let maxBuffered = 0;
    socket.pause();
    // Read a little at a time, far slower than the server could send, sampling what it holds.
    while (received < 24 * MiB) {
      await new Promise((resolve) => setImmediate(resolve));
      maxBuffered = Math.max(maxBuffered, server.bufferedBytes);
      const chunk = socket.read(256 * 1024) as Buffer | null;
      if (chunk === null) await new Promise((resolve) => socket.once('readable', resolve));
      else received += chunk.length;
    }
    socket.destroy();
    // The uploader held a few chunks at most, never the 96 MiB file; and it did fill its window.
    expect(maxBuffered).toBeLessThanOrEqual(MAX_IN_FLIGHT * SEND_CHUNK_BYTES + 1024);
    expect(maxBuffered).toBeGreaterThan(0);
    expect(server.activeUploads).toBeLessThanOrEqual(1);
  });
});

describe('multi-source', () => {
  it('takes pieces from three peers and finishes when one dies mid-way', async () => {
    const size = 40 * MiB + 123;
    const { dir, sha } = await folderWith('m.bin', size);
    // Capped so the transfer lasts long enough to lose a source in the middle.
    const peers = await Promise.all([0, 1, 2].map(() => serve(dir, { rate: 40e6 })));
    const into = await makeTempDir();
    let killed = false;
    const result = await download({
      sources: peers.map((peer) => ({ host: '127.0.0.1', port: peer.port })),
      file: 'm.bin',
      folder: into,
      onProgress: ({ done }) => {
        if (!killed && done > size / 3) {
          killed = true;
          void peers[1]?.close();
        }
      },
    });
    expect(killed).toBe(true);
    expect(result.sha256).toBe(sha);
    expect(await sha256File(path.join(into, 'm.bin'))).toBe(sha);
    const ports = result.usedSources.map((source) => source.port);
    expect(ports).toContain(peers[0]?.port);
    expect(ports).toContain(peers[2]?.port);
  });

  it('uses every holder of the same bytes, each with its own copy (its own version token)', async () => {
    const size = 24 * MiB + 7;
    const { dir, sha } = await folderWith('c.bin', size);
    // Two more holders with their own copies: same bytes, other files (inode, mtime), so each
    // names another version in INFO_OK and must be asked with its own, not the first one's.
    const copies = [dir];
    for (const _ of [1, 2]) {
      const copy = await makeTempDir();
      await fs.copyFile(path.join(dir, 'c.bin'), path.join(copy, 'c.bin'));
      copies.push(copy);
    }
    // Capped so that no holder alone finishes before the others have sent a piece.
    const peers = await Promise.all(copies.map((folder) => serve(folder, { rate: 20e6 })));
    const into = await makeTempDir();
    const result = await download({
      sources: peers.map((peer) => ({ host: '127.0.0.1', port: peer.port })),
      file: 'c.bin',
      folder: into,
    });
    expect(await sha256File(path.join(into, 'c.bin'))).toBe(sha);
    expect(result.usedSources.map((source) => source.port).sort()).toEqual(
      peers.map((peer) => peer.port).sort(),
    );
  });

  it('a very slow source does not hold the download back (endgame: the fast ones fetch its pieces too)', async () => {
    const size = 24 * MiB;
    const { dir, sha } = await folderWith('s.bin', size);
    // 200 kB/s: its first 2 MiB chunk alone would take 10 s, its run of four pieces 84 s.
    const slow = await serve(dir, { rate: 200e3 });
    const fast = await Promise.all([serve(dir), serve(dir)]);
    const into = await makeTempDir();
    const result = await download({
      sources: [slow, ...fast].map((peer) => ({ host: '127.0.0.1', port: peer.port })),
      file: 's.bin',
      folder: into,
    });
    expect(await sha256File(path.join(into, 's.bin'))).toBe(sha);
    expect(result.usedSources.map((source) => source.port)).not.toContain(slow.port);
  }, 30_000);

  it('shares the tail out: no source is asked for more than its share of what is missing', async () => {
    // Seven 64 KiB pieces for three sources: every run at most ceil(7 / 3) = 3 pieces, where a
    // full run (MULTI_SOURCE_RUN_PIECES, 4) to the first source would leave the others less.
    const piece = 64 * 1024;
    const bytes = randomBytes(6 * piece + 11);
    const uploaders = await Promise.all([0, 1, 2].map(() => startStreamingUploader(bytes, bytes, piece)));
    for (const uploader of uploaders) closers.push(() => uploader.close());
    const into = await makeTempDir();
    await download({
      sources: uploaders.map((uploader) => ({ host: '127.0.0.1', port: uploader.port })),
      file: 't.bin',
      folder: into,
    });
    expect(await sha256File(path.join(into, 't.bin'))).toBe(createHash('sha256').update(bytes).digest('hex'));
    const ranges = uploaders.flatMap((uploader) =>
      uploader.requests.filter(({ type }) => type === 'DOWNLOAD'),
    );
    expect(ranges.length).toBeGreaterThanOrEqual(3);
    for (const range of ranges) expect(range.length).toBeLessThanOrEqual(3 * piece);
  });

  it('the SHA-256 thread lost mid-way: every source kept, resumed on a new thread, verified', async () => {
    const size = 24 * MiB + 9;
    const { dir, sha } = await folderWith('h.bin', size);
    // Capped so that the thread is lost while pieces are still on their way from all three.
    const peers = await Promise.all([0, 1, 2].map(() => serve(dir, { rate: 40e6 })));
    const into = await makeTempDir();
    const logs: string[] = [];
    let stopped: Promise<void> | undefined;
    const result = await download({
      sources: peers.map((peer) => ({ host: '127.0.0.1', port: peer.port })),
      file: 'h.bin',
      folder: into,
      log: (line) => logs.push(line),
      onProgress: ({ done }) => {
        if (!stopped && done > size / 3) stopped = stopHashThreadForTests();
      },
    });
    await stopped;
    expect(stopped).toBeDefined();
    expect(await sha256File(path.join(into, 'h.bin'))).toBe(sha);
    // Once; the exit code is what terminate() reports (1 or 0, both seen here).
    const restarts = logs.filter((line) => line.includes('on a new thread'));
    expect(restarts).toHaveLength(1);
    expect(restarts[0]).toMatch(
      /^The SHA-256 thread stopped \(exit code \d+\); resuming h\.bin from its \.part on a new thread$/,
    );
    // No source blamed or left out for it.
    expect(logs.filter((line) => /^127\.0\.0\.1:\d+: |^not using /.test(line))).toEqual([]);
    expect(result.verified).toBe(true);
  });

  it('a source silent at INFO holds nothing back: two of three agree, and its INFO is cut at the end', async () => {
    const piece = 64 * 1024;
    const bytes = randomBytes(20 * piece + 5);
    const honest = await Promise.all([0, 1].map(() => startHeldUploader(bytes, piece)));
    for (const uploader of honest) uploader.answerInfo();
    // Listed first, and never answers: a wait for every INFO would last INFO_TIMEOUT_MS (10 min).
    const silent = await startHeldUploader(bytes, piece);
    for (const uploader of [...honest, silent]) closers.push(() => uploader.close());
    const into = await makeTempDir();
    const logs: string[] = [];
    const result = await download({
      sources: [silent, ...honest].map((uploader) => ({ host: '127.0.0.1', port: uploader.port })),
      file: 'q.bin',
      folder: into,
      log: (line) => logs.push(line),
    });
    expect(await sha256File(path.join(into, 'q.bin'))).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(result.usedSources.map((source) => source.port)).not.toContain(silent.port);
    // The download over, its INFO connection to the silent source is closed, not left open.
    await silent.infoClosed;
    expect(silent.requests.map(({ type }) => type)).toEqual(['INFO']);
    expect(logs.filter((line) => line.includes(`:${silent.port}`))).toEqual([]);
  });

  it('a source whose INFO comes after the start joins the download', async () => {
    const piece = 64 * 1024;
    const bytes = randomBytes(24 * piece + 3);
    // The first two hold their ranges: the file cannot be done before the third answers.
    const first = await Promise.all([0, 1].map(() => startHeldUploader(bytes, piece, { holdRanges: true })));
    for (const uploader of first) uploader.answerInfo();
    const late = await startHeldUploader(bytes, piece);
    for (const uploader of [...first, late]) closers.push(() => uploader.close());
    const into = await makeTempDir();
    const logs: string[] = [];
    const done = download({
      sources: [late, ...first].map((uploader) => ({ host: '127.0.0.1', port: uploader.port })),
      file: 'j.bin',
      folder: into,
      log: (line) => logs.push(line),
    });
    // Ranges asked of the first two while the third has not answered INFO: the download started.
    await Promise.all([...first.map((uploader) => uploader.rangeAsked), late.infoAsked]);
    expect(late.requests.map(({ type }) => type)).toEqual(['INFO']);
    late.answerInfo();
    await late.rangeAsked;
    for (const uploader of first) uploader.releaseRanges();
    const result = await done;
    expect(await sha256File(path.join(into, 'j.bin'))).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(result.usedSources.map((source) => source.port)).toContain(late.port);
    expect(logs).toContain(
      `127.0.0.1:${late.port} gave its INFO after the download started; fetching from it too`,
    );
  });

  it('a source whose INFO comes after the start with another version is not used', async () => {
    const piece = 64 * 1024;
    const bytes = randomBytes(12 * piece);
    const first = await Promise.all([0, 1].map(() => startHeldUploader(bytes, piece, { holdRanges: true })));
    for (const uploader of first) uploader.answerInfo();
    const other = await startHeldUploader(randomBytes(bytes.length), piece);
    for (const uploader of [...first, other]) closers.push(() => uploader.close());
    const into = await makeTempDir();
    const refused = `not using 127.0.0.1:${other.port}: it has another version of v.bin (SHA-256 `;
    let heard!: () => void;
    const refusal = new Promise<void>((resolve) => (heard = resolve));
    const done = download({
      sources: [other, ...first].map((uploader) => ({ host: '127.0.0.1', port: uploader.port })),
      file: 'v.bin',
      folder: into,
      log: (line) => {
        if (line.startsWith(refused)) heard();
      },
    });
    await Promise.all([...first.map((uploader) => uploader.rangeAsked), other.infoAsked]);
    other.answerInfo();
    await refusal;
    for (const uploader of first) uploader.releaseRanges();
    const result = await done;
    expect(await sha256File(path.join(into, 'v.bin'))).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(result.usedSources.map((source) => source.port)).not.toContain(other.port);
    expect(other.requests.map(({ type }) => type)).toEqual(['INFO']);
  });

  it('asks at most MAX_DOWNLOAD_SOURCES of the holders a SEARCH listed, picked at random', async () => {
    const piece = 64 * 1024;
    const bytes = randomBytes(10 * piece + 1);
    const holders = await Promise.all(
      Array.from({ length: MAX_DOWNLOAD_SOURCES + 4 }, () => startHeldUploader(bytes, piece)),
    );
    for (const holder of holders) {
      holder.answerInfo();
      closers.push(() => holder.close());
    }
    const into = await makeTempDir();
    const logs: string[] = [];
    const result = await download({
      sources: holders.map((holder) => ({ host: '127.0.0.1', port: holder.port })),
      file: 'n.bin',
      folder: into,
      log: (line) => logs.push(line),
    });
    expect(await sha256File(path.join(into, 'n.bin'))).toBe(createHash('sha256').update(bytes).digest('hex'));
    const contacted = holders.filter((holder) => holder.requests.length > 0);
    expect(contacted).toHaveLength(MAX_DOWNLOAD_SOURCES);
    for (const port of result.usedSources.map((source) => source.port))
      expect(contacted.map((holder) => holder.port)).toContain(port);
    expect(logs).toContain(
      `${MAX_DOWNLOAD_SOURCES + 4} peers hold n.bin; asking ${MAX_DOWNLOAD_SOURCES} of them, picked at random (at most ${MAX_DOWNLOAD_SOURCES} sources per download)`,
    );
  });

  it('avoids a lying source and a source with another version of the file', async () => {
    const size = 20 * MiB + 5;
    const { dir, sha } = await folderWith('f.bin', size);
    const { dir: other } = await folderWith('f.bin', size);
    const liar = await startLyingPeer(path.join(dir, 'f.bin'), path.join(other, 'f.bin'));
    closers.push(liar.close);
    const honest = await Promise.all([serve(dir, { rate: 60e6 }), serve(dir, { rate: 60e6 })]);
    const differentVersion = await serve(other);
    const into = await makeTempDir();
    const logs: string[] = [];
    const result = await download({
      sources: [liar.port, honest[0]?.port, differentVersion.port, honest[1]?.port].map((port) => ({
        host: '127.0.0.1',
        port: port as number,
      })),
      file: 'f.bin',
      folder: into,
      log: (message) => logs.push(message),
    });
    expect(await sha256File(path.join(into, 'f.bin'))).toBe(sha);
    const used = result.usedSources.map((source) => source.port);
    expect(used).not.toContain(liar.port);
    expect(used).not.toContain(differentVersion.port);
    expect(logs.some((line) => line.includes('another version'))).toBe(true);
    expect(logs.some((line) => line.includes('wrong content'))).toBe(true);
  });
});
