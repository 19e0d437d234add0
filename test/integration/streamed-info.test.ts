/**
 * Streamed INFO (docs/protocol.md, "Streamed INFO"): a fresh download from one source starts as
 * soon as the uploader begins hashing, each piece checked against its prefix hash (the SHA-256
 * of the file up to the piece's end) as it comes, and the file is named only after INFO_END.
 * Real sockets on 127.0.0.1: napshare's own file server, and hand-written uploaders that stream
 * under the test's control or lie.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileServer } from '../../peer/file-server.ts';
import { FolderCatalog } from '../../peer/shared-folder.ts';
import { download } from '../../peer/transfer/download.ts';
import { closeFileSources, fileSource } from '../helpers/file-source.ts';
import { exists, makeTempDir, removeTempDirs, sha256File } from '../helpers/files.ts';
import { LineClient } from '../helpers/line-client.ts';
import { startLyingPeer } from '../helpers/lying-peer.ts';
import { type StreamingUploader, startStreamingUploader } from '../helpers/streaming-uploader.ts';
import { waitUntil, withDeadline } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
/** Small pieces for the hand-written uploaders: five of them and a short one. */
const PIECE = 64 * 1024;
const closers: (() => void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await closeFileSources();
  await removeTempDirs();
});

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function streaming(hashed: Buffer, served = hashed): Promise<StreamingUploader> {
  const uploader = await startStreamingUploader(hashed, served, PIECE);
  closers.push(uploader.close);
  return uploader;
}

const source = (uploader: { port: number }) => ({ host: '127.0.0.1', port: uploader.port });

/** A download of f.bin from `uploader` into `folder`, started at once; its log lines go to `logs`. */
function loggedDownload(uploader: { port: number }, folder: string) {
  const logs: string[] = [];
  const result = download({
    sources: [source(uploader)],
    file: 'f.bin',
    folder,
    log: (line) => logs.push(line),
  });
  return { result, logs };
}

async function partSize(folder: string, file: string): Promise<number> {
  return (await fs.stat(path.join(folder, `${file}.part`)).catch(() => null))?.size ?? 0;
}

describe("napshare's uploader", () => {
  it('streams the prefix hashes of a file it never hashed, then its SHA-256; INFO without prefixes is INFO_OK as before', async () => {
    const { dir, sha, server } = await fileSource('s.bin', 8 * MiB + 5);
    const content = await fs.readFile(path.join(dir, 's.bin'));
    const expected = [4 * MiB, 8 * MiB, 8 * MiB + 5].map((end) => sha256(content.subarray(0, end)));
    const client = await LineClient.connect(server.port);
    client.send({ type: 'INFO', file: 's.bin', prefixes: true });
    const head = await client.json(0);
    expect(head).toMatchObject({ type: 'INFO_HEAD', size: 8 * MiB + 5, pieceSize: 4 * MiB });
    expect(head.version).toMatch(/^\d+-\d+-\d+$/);
    const got: string[] = [];
    for (let i = 1; ; i++) {
      const line = await client.json(i);
      if (line.type === 'INFO_END') {
        expect(line).toEqual({ type: 'INFO_END', sha256: sha });
        break;
      }
      expect(line).toMatchObject({ type: 'PREFIXES', first: got.length });
      got.push(...(line.hashes as string[]));
    }
    expect(got).toEqual(expected);
    expect(got[got.length - 1]).toBe(sha);
    await client.closed;
    const plain = await (await LineClient.connect(server.port)).request({ type: 'INFO', file: 's.bin' });
    expect(plain).toMatchObject({ type: 'INFO_OK', sha256: sha, pieceSize: 4 * MiB });
    expect(plain.prefixes).toBeUndefined();
  });
});

describe('a fresh download from one source', () => {
  it('starts before the uploader has hashed the file, writes verified pieces meanwhile, and is named only after INFO_END', async () => {
    const content = randomBytes(5 * PIECE + 100);
    const uploader = await streaming(content);
    const into = await makeTempDir();
    let settled = false;
    const result = download({ sources: [source(uploader)], file: 'f.bin', folder: into }).finally(() => {
      settled = true;
    });
    await uploader.streaming;
    // The DOWNLOAD goes out before a single prefix hash exists.
    await waitUntil(() => uploader.requests.some((r) => r.type === 'DOWNLOAD'), 'the DOWNLOAD request');
    expect(uploader.requests[0]).toMatchObject({ type: 'INFO', prefixes: true });
    uploader.release(2);
    await waitUntil(async () => (await partSize(into, 'f.bin')) >= 2 * PIECE, 'two verified pieces written');
    uploader.release(6);
    // Every piece is here and verified; the name still waits for the file's SHA-256.
    await waitUntil(async () => (await partSize(into, 'f.bin')) === content.length, 'every piece written');
    expect(await exists(path.join(into, 'f.bin'))).toBe(false);
    expect(settled).toBe(false);
    uploader.end();
    const done = await result;
    expect(done.sha256).toBe(sha256(content));
    expect(await sha256File(path.join(into, 'f.bin'))).toBe(sha256(content));
    expect(await fs.readdir(into)).toEqual(['f.bin']);
  });

  it('of bytes that do not match the prefix hashes: INTEGRITY, and nothing under the name', async () => {
    const content = randomBytes(5 * PIECE + 100);
    const other = Buffer.from(content);
    other[3 * PIECE + 7] = (other[3 * PIECE + 7] as number) ^ 1;
    const uploader = await streaming(content, other);
    const into = await makeTempDir();
    const result = download({ sources: [source(uploader)], file: 'f.bin', folder: into });
    await uploader.streaming;
    uploader.end();
    await expect(result).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(await exists(path.join(into, 'f.bin'))).toBe(false);
    // What reached the .part is checked again by the next DOWNLOAD: the three pieces before the
    // wrong one (and any good one after it) are kept, the wrong one is fetched again.
    const honest = await streaming(content);
    const { result: resumed, logs } = loggedDownload(honest, into);
    const done = await resumed;
    expect(logs.some((line) => /^resuming: [3-5] verified pieces/.test(line))).toBe(true);
    expect(done.transferred).toBeGreaterThanOrEqual(PIECE);
    expect(await sha256File(path.join(into, 'f.bin'))).toBe(sha256(content));
  });

  it('whose last bytes are wrong fails at the last prefix hash: the whole file is checked', async () => {
    const content = randomBytes(5 * PIECE + 100);
    const other = Buffer.from(content);
    other[other.length - 1] = (other[other.length - 1] as number) ^ 1;
    const uploader = await streaming(content, other);
    const into = await makeTempDir();
    const result = download({ sources: [source(uploader)], file: 'f.bin', folder: into });
    await uploader.streaming;
    uploader.end();
    await expect(result).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(await exists(path.join(into, 'f.bin'))).toBe(false);
  });

  it('refuses an INFO_END that is not the last prefix hash (PROTOCOL), though every piece verified', async () => {
    const content = randomBytes(2 * PIECE + 1);
    const uploader = await streaming(content);
    const into = await makeTempDir();
    const result = download({ sources: [source(uploader)], file: 'f.bin', folder: into });
    await uploader.streaming;
    uploader.release(3);
    await waitUntil(async () => (await partSize(into, 'f.bin')) === content.length, 'every piece written');
    uploader.end('0'.repeat(64));
    await expect(result).rejects.toMatchObject({ code: 'PROTOCOL' });
    expect(await exists(path.join(into, 'f.bin'))).toBe(false);
  });

  it('whose hash stream breaks keeps the verified pieces; the next DOWNLOAD resumes from them against piece hashes', async () => {
    const content = randomBytes(5 * PIECE + 100);
    const uploader = await streaming(content);
    const into = await makeTempDir();
    const result = download({ sources: [source(uploader)], file: 'f.bin', folder: into });
    await uploader.streaming;
    uploader.release(2);
    await waitUntil(async () => (await partSize(into, 'f.bin')) >= 2 * PIECE, 'two verified pieces written');
    uploader.cut();
    await expect(result).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(await exists(path.join(into, 'f.bin'))).toBe(false);
    // Another uploader of the same file (napshare's, which chooses 4 MiB pieces: give it the
    // same 64 KiB ones by the hand-written one's INFO_OK instead).
    const again = await streaming(content);
    const { result: resumed, logs } = loggedDownload(again, into);
    const done = await resumed;
    expect(again.requests[0]).toEqual({ type: 'INFO', file: 'f.bin' });
    // Pieces written unverified after the cut may verify too: they are checked again here.
    expect(logs.some((line) => /^resuming: [2-6] verified pieces/.test(line))).toBe(true);
    expect(done.transferred).toBeLessThanOrEqual(content.length - 2 * PIECE);
    expect(await sha256File(path.join(into, 'f.bin'))).toBe(sha256(content));
  });

  it('whose file changes while it is hashed asks INFO again and finishes (CHANGED)', async () => {
    const content = randomBytes(3 * PIECE);
    const uploader = await streaming(content);
    const into = await makeTempDir();
    const { result, logs } = loggedDownload(uploader, into);
    await uploader.streaming;
    uploader.release(1);
    await waitUntil(async () => (await partSize(into, 'f.bin')) >= PIECE, 'a verified piece written');
    uploader.changed();
    const done = await result;
    expect(logs).toContain('f.bin changed at its source during the download; asking INFO again');
    expect(done.sha256).toBe(sha256(content));
    expect(await sha256File(path.join(into, 'f.bin'))).toBe(sha256(content));
  });

  it('cancelled while it waits for prefix hashes: CANCELLED at once, the stream closed, the verified pieces kept', async () => {
    const content = randomBytes(4 * PIECE);
    const uploader = await streaming(content);
    const into = await makeTempDir();
    const controller = new AbortController();
    const result = download({
      sources: [source(uploader)],
      file: 'f.bin',
      folder: into,
      signal: controller.signal,
    });
    await uploader.streaming;
    uploader.release(1);
    await waitUntil(async () => (await partSize(into, 'f.bin')) >= PIECE, 'a verified piece written');
    // No more hashes come: the download waits on the stream when it is cancelled.
    controller.abort();
    await expect(withDeadline(result, 10_000, 'the cancelled download to end')).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    await waitUntil(() => uploader.openStreams === 0, 'the cancelled download closing its INFO stream');
    expect(await exists(path.join(into, 'f.bin'))).toBe(false);
    expect(await partSize(into, 'f.bin')).toBeGreaterThanOrEqual(PIECE);
  });

  it('from an uploader that does not stream (INFO_OK to a streamed INFO) is verified by piece hashes', async () => {
    const dir = await makeTempDir();
    await fs.writeFile(path.join(dir, 'g.bin'), randomBytes(4 * MiB + 3));
    const honest = await startLyingPeer(path.join(dir, 'g.bin'), path.join(dir, 'g.bin'));
    closers.push(honest.close);
    const into = await makeTempDir();
    const done = await download({ sources: [source(honest)], file: 'g.bin', folder: into });
    expect(await sha256File(path.join(into, 'g.bin'))).toBe(await sha256File(path.join(dir, 'g.bin')));
    expect(done.sha256).toBe(await sha256File(path.join(dir, 'g.bin')));
  });

  it('of an empty file: INFO_HEAD, INFO_END with the empty SHA-256, and an empty file named', async () => {
    const dir = await makeTempDir();
    await fs.writeFile(path.join(dir, 'e.bin'), '');
    const server = await FileServer.start({ host: '127.0.0.1', port: 0, catalog: new FolderCatalog(dir) });
    closers.push(() => void server.close());
    const into = await makeTempDir();
    const done = await download({ sources: [source(server)], file: 'e.bin', folder: into });
    expect(done.sha256).toBe(sha256(Buffer.alloc(0)));
    expect((await fs.stat(path.join(into, 'e.bin'))).size).toBe(0);
  });
});
