/**
 * Crashes in the middle of a download, with real processes: the uploader (`npm run peer`) killed
 * with SIGKILL at random points of a transfer, and the downloader (`npm run peer` too) killed at
 * random points of its own. Each time nothing is under the final name until the file is whole,
 * the next download resumes from the `.part`, and the file ends with the original's SHA-256.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { download } from '../../peer/transfer/download.ts';
import { IndexServer } from '../../server/index-server.ts';
import { isNapError } from '../../shared/errors.ts';
import { exists, makeTempDir, sha256File, writeRandomFile } from '../helpers/files.ts';
import { withDeadline } from '../helpers/wait.ts';
import type { StressContext } from './context.ts';
import { partReaches } from './folder-watch.ts';
import { FETCH_TIMEOUT_MS, PeerCli } from './peer-cli.ts';
import type { Row } from './report.ts';

const MiB = 1024 * 1024;
const PIECE_BYTES = 4 * MiB;

async function startIndex(ctx: StressContext): Promise<number> {
  const index = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
  ctx.defer(() => index.close());
  return index.address().port;
}

export async function killUploaders(ctx: StressContext): Promise<void> {
  const kills = ctx.profile.uploaderKills;
  const row = ctx.row(`uploader killed (SIGKILL) at ${kills} random points of a download`);
  const indexPort = await startIndex(ctx);
  const source = await makeTempDir('napshare-stress-');
  const size = 24 * MiB + 4321;
  const sha = await writeRandomFile(path.join(source, 'video.bin'), size);
  // Capped, so that a transfer lasts long enough to be cut anywhere.
  const uploaderArgs = ['--max-upload-rate', '40MB'];
  let uploader = await PeerCli.start(ctx, 'the uploader', indexPort, source, uploaderArgs);
  let interrupted = 0;
  for (let round = 0; round < kills; round++) {
    const into = await makeTempDir('napshare-stress-');
    const finalPath = path.join(into, 'video.bin');
    // Anywhere in the first nine tenths: bytes already in flight may still arrive after the kill.
    const point = Math.floor(ctx.random() * 0.9 * size);
    const victim = uploader;
    let killed: Promise<unknown> | undefined;
    const outcome = await withDeadline(
      download({
        sources: [{ host: '127.0.0.1', port: victim.port }],
        file: 'video.bin',
        folder: into,
        onProgress: ({ done }) => {
          if (!killed && done >= point) {
            killed = victim.process.stop('SIGKILL');
            // No byte under the final name while the transfer is cut.
            void exists(finalPath).then(
              (there) => there && row.lostFile(`video.bin under its name at ${done} bytes`),
            );
          }
        },
      }).catch((error: unknown) => error),
      FETCH_TIMEOUT_MS,
      `the download from the uploader killed at ${point} bytes`,
    );
    await (killed ?? victim.process.stop('SIGKILL'));
    uploader = await PeerCli.start(ctx, 'the uploader', indexPort, source, uploaderArgs);
    if (isNapError(outcome)) {
      interrupted++;
      row.check(!(await exists(finalPath)), () => `round ${round}: video.bin under its name after the kill`);
      const kept = (await fs.stat(`${finalPath}.part`).catch(() => null))?.size ?? 0;
      // Resumed from the next uploader process: only what is missing crosses the network.
      const resumed = await withDeadline(
        download({ sources: [{ host: '127.0.0.1', port: uploader.port }], file: 'video.bin', folder: into }),
        FETCH_TIMEOUT_MS,
        'the resumed download',
      );
      row.check(
        resumed.transferred <= size - kept + PIECE_BYTES,
        () => `round ${round}: ${resumed.transferred} bytes moved again with ${kept} kept`,
      );
    } else if (outcome instanceof Error) throw outcome;
    row.tries++;
    if (await checkFile(row, finalPath, sha, `round ${round} (killed at ${point} bytes)`)) row.survived++;
    const left = (await fs.readdir(into)).join();
    row.check(left === 'video.bin', () => `round ${round}: the folder holds ${left}`);
  }
  row.note(
    `${interrupted} cut mid-transfer and resumed from the .part, ${kills - interrupted} finished first`,
  );
  row.check(
    interrupted >= Math.ceil(kills / 2),
    () => `only ${interrupted} of ${kills} kills cut a transfer`,
  );
}

export async function killDownloaders(ctx: StressContext): Promise<void> {
  const kills = ctx.profile.downloaderKills;
  const row = ctx.row(`downloader killed (SIGKILL) at ${kills} random points, resumed by the next one`);
  const indexPort = await startIndex(ctx);
  const source = await makeTempDir('napshare-stress-');
  const size = 40 * MiB + 99;
  const sha = await writeRandomFile(path.join(source, 'aula.bin'), size);
  const uploader = await PeerCli.start(ctx, 'the uploader', indexPort, source, ['--max-upload-rate', '30MB']);
  const keptBytes: number[] = [];
  for (let round = 0; round < kills; round++) {
    const into = await makeTempDir('napshare-stress-');
    const part = path.join(into, 'aula.bin.part');
    const point = Math.floor((0.1 + 0.8 * ctx.random()) * size);
    const first = await PeerCli.start(ctx, 'the downloader', indexPort, into);
    const reached = partReaches(part, point);
    first.cli.send('SEARCH aula.bin');
    first.cli.send(`DOWNLOAD 127.0.0.1 ${uploader.port}`);
    await withDeadline(reached.promise, FETCH_TIMEOUT_MS, `aula.bin.part to hold ${point} bytes`).finally(
      reached.stop,
    );
    await first.process.stop('SIGKILL');
    const kept = (await fs.stat(part)).size;
    row.check(kept < size, () => `round ${round}: the .part was complete (${kept} bytes) at the kill`);
    row.check(
      !(await exists(path.join(into, 'aula.bin'))),
      () => `round ${round}: aula.bin under its name after the kill`,
    );

    const second = await PeerCli.start(ctx, 'the resuming downloader', indexPort, into, ['--verbose']);
    const outcome = await second.fetch('aula.bin', uploader.port);
    row.check(outcome.ok, () => `round ${round}: the resumed download said ${outcome.line}`);
    row.check(
      second.cli.stderr.some((line) => line.includes('resuming')),
      () => `round ${round}: the next download did not resume from the .part`,
    );
    row.tries++;
    if ((await checkFile(row, path.join(into, 'aula.bin'), sha, `round ${round}`)) && outcome.ok)
      row.survived++;
    row.check(!(await exists(part)), () => `round ${round}: aula.bin.part left after the download`);
    await second.process.stop();
    keptBytes.push(kept);
  }
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  row.note(`killed with ${keptBytes.map(mb).join(', ')} MB of ${mb(size)} kept, each resumed from there`);
}

/** True when `file` is there with the SHA-256 `sha`; a lost file otherwise. */
async function checkFile(row: Row, file: string, sha: string, when: string): Promise<boolean> {
  const actual = (await exists(file)) ? await sha256File(file) : 'no file';
  if (actual === sha) return true;
  row.lostFile(`${when}: ${path.basename(file)} is ${actual}, not ${sha}`);
  return false;
}
