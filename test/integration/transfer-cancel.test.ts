/**
 * Cancelling a download (DownloadOptions.signal) against real file servers on 127.0.0.1: at
 * every stage — waiting for INFO, pausing between INFO attempts, during the transfer from one
 * source, several, or a source without INFO — it stops at once with CANCELLED, the lock is
 * released, the verified pieces stay in the `.part`, and the next download resumes from them.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileServer } from '../../peer/file-server.ts';
import { RateLimiter } from '../../peer/rate-limiter.ts';
import { FolderCatalog } from '../../peer/shared-folder.ts';
import { type DownloadOptions, download, type Progress } from '../../peer/transfer/download.ts';
import { isNapError, type NapError } from '../../shared/errors.ts';
import { exists, makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { ScriptedServer } from '../helpers/scripted-server.ts';
import { waitUntil } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
/** Four 4 MiB pieces and a bit: at 8 MB/s a source needs about 2 s, time enough to cancel. */
const SIZE = 16 * MiB + 12_345;
const RATE = 8_000_000;
const servers: FileServer[] = [];
const scripted: ScriptedServer[] = [];

async function serve(folder: string, rate?: number): Promise<FileServer> {
  const server = await FileServer.start({
    host: '127.0.0.1',
    port: 0,
    catalog: new FolderCatalog(folder),
    limiter: rate ? new RateLimiter(rate) : undefined,
  });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(scripted.splice(0).map((server) => server.close()));
  await removeTempDirs();
});

/** Starts `options` and aborts it once `when` holds for a progress report; resolves with the error. */
async function cancelWhen(
  options: Omit<DownloadOptions, 'signal' | 'onProgress'>,
  when: (progress: Progress) => boolean,
): Promise<{ error: unknown; last: Progress | undefined }> {
  const controller = new AbortController();
  let last: Progress | undefined;
  const error = await download({
    ...options,
    signal: controller.signal,
    onProgress: (progress) => {
      last = progress;
      if (when(progress)) controller.abort();
    },
  }).then(
    () => new Error('the download finished instead of being cancelled'),
    (failure: unknown) => failure,
  );
  return { error, last };
}

describe('cancelling a download', () => {
  it('one source: CANCELLED mid-transfer, the verified pieces kept, then resumed to the right SHA-256', async () => {
    const from = await makeTempDir();
    const sha = await writeRandomFile(path.join(from, 'big.bin'), SIZE);
    const server = await serve(from, RATE);
    const into = await makeTempDir();
    const source = { host: '127.0.0.1', port: server.port };
    const { error, last } = await cancelWhen(
      { sources: [source], file: 'big.bin', folder: into },
      (progress) => (progress.verifiedPieces ?? 0) >= 1,
    );
    expect(isNapError(error, 'CANCELLED'), String(error)).toBe(true);
    expect((error as NapError).message).toMatch(
      /^The download of big\.bin was cancelled; big\.bin\.part \(\d+ bytes\) is kept/,
    );
    expect(last?.pieceCount).toBe(5);
    // The lock is gone, the final name untouched, the .part holds at least the verified piece.
    expect(await fs.readdir(into)).toEqual(['big.bin.part']);
    const kept = (await fs.stat(path.join(into, 'big.bin.part'))).size;
    expect(kept).toBeGreaterThanOrEqual(4 * MiB);
    expect(kept).toBeLessThan(SIZE);

    const result = await download({ sources: [source], file: 'big.bin', folder: into });
    expect(await sha256File(path.join(into, 'big.bin'))).toBe(sha);
    // Resumed: the bytes kept did not cross the network again.
    expect(result.transferred).toBe(SIZE - kept);
    expect(await fs.readdir(into)).toEqual(['big.bin']);
  });

  it('several sources: every range is cut, CANCELLED, and the next download resumes', async () => {
    const from = await makeTempDir();
    const sha = await writeRandomFile(path.join(from, 'big.bin'), SIZE);
    const sources = await Promise.all([serve(from, RATE / 2), serve(from, RATE / 2)]).then((all) =>
      all.map((server) => ({ host: '127.0.0.1', port: server.port })),
    );
    const into = await makeTempDir();
    const { error, last } = await cancelWhen(
      { sources, file: 'big.bin', folder: into },
      (progress) => progress.sources === 2 && (progress.verifiedPieces ?? 0) >= 1,
    );
    expect(isNapError(error, 'CANCELLED'), String(error)).toBe(true);
    expect(last?.verifiedPieces).toBeLessThan(5);
    expect(await exists(path.join(into, 'big.bin.part.lock'))).toBe(false);
    expect(await exists(path.join(into, 'big.bin'))).toBe(false);
    // Resumed: the first report already counts the pieces kept (endgame duplicates make
    // `transferred` no measure of it with several sources).
    let first: Progress | undefined;
    await download({
      sources,
      file: 'big.bin',
      folder: into,
      onProgress: (progress) => (first ??= progress),
    });
    expect(first?.verifiedPieces).toBeGreaterThanOrEqual(1);
    expect(await sha256File(path.join(into, 'big.bin'))).toBe(sha);
  });

  it('a source without INFO: the bytes received are flushed into the .part and resumed from', async () => {
    const from = await makeTempDir();
    const sha = await writeRandomFile(path.join(from, 'plain.bin'), 6 * MiB);
    const server = await serve(from, RATE);
    const into = await makeTempDir();
    const source = { host: '127.0.0.1', port: server.port, plain: true };
    const { error } = await cancelWhen(
      { sources: [source], file: 'plain.bin', folder: into },
      (progress) => progress.done >= MiB,
    );
    expect(isNapError(error, 'CANCELLED'), String(error)).toBe(true);
    const kept = (await fs.stat(path.join(into, 'plain.bin.part'))).size;
    expect(kept).toBeGreaterThanOrEqual(MiB);
    expect(await exists(path.join(into, 'plain.bin.part.lock'))).toBe(false);
    const result = await download({ sources: [source], file: 'plain.bin', folder: into });
    expect(result.transferred).toBe(6 * MiB - kept);
    expect(await sha256File(path.join(into, 'plain.bin'))).toBe(sha);
  });

  it('while waiting for an INFO answer that never comes: CANCELLED at once, nothing kept', async () => {
    const silent = await ScriptedServer.start(() => undefined);
    scripted.push(silent);
    const into = await makeTempDir();
    const controller = new AbortController();
    const running = download({
      sources: [{ host: '127.0.0.1', port: silent.port }],
      file: 'a.bin',
      folder: into,
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await waitUntil(() => silent.types.includes('INFO'), 'the silent peer received INFO');
    controller.abort();
    // Without the signal this waits for INFO_TIMEOUT_MS (10 minutes), far past the test's timeout.
    const error = await running;
    expect(isNapError(error, 'CANCELLED'), String(error)).toBe(true);
    expect((error as NapError).message).toContain('nothing of a.bin is kept');
    expect(await fs.readdir(into)).toEqual([]);
  });

  it('in the pause between two INFO attempts: no further attempt is made', async () => {
    // A port nothing listens on: every attempt is refused, and retried after the pause.
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const into = await makeTempDir();
    const controller = new AbortController();
    const logged: string[] = [];
    const running = download({
      sources: [{ host: '127.0.0.1', port }],
      file: 'a.bin',
      folder: into,
      signal: controller.signal,
      // A pause far longer than the test may last.
      infoRetryDelayMs: 10 * 60_000,
      log: (line) => {
        logged.push(line);
        if (line.includes('INFO attempt 1 failed')) controller.abort();
      },
    }).catch((error: unknown) => error);
    const error = await running;
    expect(isNapError(error, 'CANCELLED'), String(error)).toBe(true);
    expect(logged.filter((line) => line.includes('INFO attempt'))).toHaveLength(1);
    expect(await fs.readdir(into)).toEqual([]);
  });

  it('a signal aborted before the start: nothing is asked of anyone', async () => {
    const silent = await ScriptedServer.start(() => undefined);
    scripted.push(silent);
    const into = await makeTempDir();
    const error = await download({
      sources: [{ host: '127.0.0.1', port: silent.port }],
      file: 'a.bin',
      folder: into,
      signal: AbortSignal.abort(),
    }).catch((failure: unknown) => failure);
    expect(isNapError(error, 'CANCELLED'), String(error)).toBe(true);
    expect(silent.received).toEqual([]);
    expect(await fs.readdir(into)).toEqual([]);
  });
});
