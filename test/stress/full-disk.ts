/**
 * Downloads into a disk that fills up: a small tmpfs (as root), else an injected ENOSPC on this
 * process's file writes (test/helpers/small-disk.ts). Each time: the one documented sentence,
 * nothing under the final name, the `.part` holding exactly the pieces the sentence counts (the
 * next download says it resumes from that many), and once space is freed the same peer finishes
 * the download with the original's SHA-256.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { PeerSession } from '../../peer/session.ts';
import { IndexServer } from '../../server/index-server.ts';
import { describeError } from '../../shared/errors.ts';
import { exists, makeTempDir, sha256File, writeRandomFile } from '../helpers/files.ts';
import { canMountTmpfs, smallDisk } from '../helpers/small-disk.ts';
import { withDeadline } from '../helpers/wait.ts';
import type { StressContext } from './context.ts';
import { FETCH_TIMEOUT_MS, PeerCli } from './peer-cli.ts';
import type { Row } from './report.ts';

const MiB = 1024 * 1024;
const PIECE_BYTES = 4 * MiB;

/** The downloader: the real CLI on a tmpfs; in this process (where ENOSPC is injected) otherwise. */
interface Downloader {
  /** DOWNLOAD of the last SEARCH; the success line, or the error sentence. */
  fetch(file: string, first: boolean): Promise<{ ok: boolean; line: string }>;
  /** Verified pieces the last download found in the `.part` and resumed from (its log says). */
  resumedPieces(): number | undefined;
  close(): Promise<void>;
}

export async function fullDisk(ctx: StressContext): Promise<void> {
  const kind = (await canMountTmpfs()) ? 'tmpfs' : 'injected';
  const rounds = ctx.profile.fullDisks;
  const row = ctx.row(
    `a full disk (${kind === 'tmpfs' ? 'a small tmpfs' : 'injected ENOSPC'}) in ${rounds} downloads, each resumed once freed`,
  );
  const index = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
  ctx.defer(() => index.close());
  const source = await makeTempDir('napshare-stress-');
  const plan: Round[] = [];
  for (let round = 0; round < rounds; round++) {
    const file = `disk-${round}.bin`;
    const size = (6 + ctx.int(0, 10)) * MiB + ctx.int(0, 99_999);
    // Room for part of it; the filler, removed later, makes room for all of it.
    const room = ctx.int(MiB, size - MiB);
    plan.push({ file, size, room, round, sha: await writeRandomFile(path.join(source, file), size) });
  }
  const uploader = await PeerCli.start(ctx, 'the uploader', index.address().port, source);
  for (const round of plan) {
    const disk = await smallDisk(kind, round.room + round.size, round.size);
    try {
      await fillUp(ctx, kind, index.address().port, uploader.port, disk, round);
    } finally {
      await disk.remove();
    }
  }
  row.note(
    'the sentence of DISK_FULL each time, nothing under the final name, the next DOWNLOAD resumed from the pieces it counted',
  );
}

interface Round {
  file: string;
  size: number;
  sha: string;
  room: number;
  round: number;
}

async function fillUp(
  ctx: StressContext,
  kind: 'tmpfs' | 'injected',
  indexPort: number,
  uploaderPort: number,
  disk: { dir: string; free(): Promise<void> },
  { file, size, sha, room, round }: Round,
): Promise<void> {
  const row = ctx.current as Row;
  const downloader = await startDownloader(ctx, kind, indexPort, disk.dir, uploaderPort);
  try {
    const full = await downloader.fetch(file, true);
    // What is kept, in the words of piece-transfer.ts: "N of M pieces ... are kept in", or none yet.
    const pieces = Math.ceil(size / PIECE_BYTES);
    const advice = 'free some space and DOWNLOAD again to resume.';
    const some = new RegExp(
      `^The disk is full: (\\d+) of ${pieces} pieces of ${file} are kept in ${file}\\.part; ${advice}$`,
    ).exec(full.line);
    const none = full.line === `The disk is full: no verified piece of ${file} is kept yet; ${advice}`;
    const said = !full.ok && (some !== null || none);
    row.check(said, () => `round ${round}: the full disk said ${JSON.stringify(full.line)}`);
    const kept = some ? Number(some[1]) : 0;
    const left = (await fs.readdir(disk.dir)).sort();
    if (left.includes(file)) row.lostFile(`round ${round}: ${file} under its name on a full disk`);
    // The .part stays (with its verified pieces, or the unverified start of the first one).
    row.check(
      left.join() === ['filler', `${file}.part`].sort().join() || (kept === 0 && left.join() === 'filler'),
      () => `round ${round}: the folder holds ${left.join(', ')}`,
    );
    await disk.free();
    // The same peer, once there is room: resumes from what was kept, and finishes.
    const resumed = await downloader.fetch(file, false);
    row.check(resumed.ok, () => `round ${round}: after freeing space: ${resumed.line}`);
    row.check(
      kept === 0 || downloader.resumedPieces() === kept,
      () => `round ${round}: ${kept} pieces said kept, ${downloader.resumedPieces()} resumed from`,
    );
    const got = (await exists(path.join(disk.dir, file)))
      ? await sha256File(path.join(disk.dir, file))
      : 'no file';
    if (got !== sha) row.lostFile(`round ${round}: ${file} is ${got}, not ${sha}`);
    row.tries++;
    if (resumed.ok && said && got === sha) row.survived++;
    ctx.log(
      `round ${round}: ${kept} of ${Math.ceil(size / PIECE_BYTES)} pieces fit in ${(room / MiB).toFixed(1)} MiB`,
    );
  } finally {
    await downloader.close();
  }
}

async function startDownloader(
  ctx: StressContext,
  kind: 'tmpfs' | 'injected',
  indexPort: number,
  folder: string,
  from: number,
): Promise<Downloader> {
  const resumed = (lines: readonly string[]) => {
    const line = lines.findLast((text) => text.includes('resuming: '));
    return line === undefined ? undefined : Number(/resuming: (\d+) verified pieces/.exec(line)?.[1]);
  };
  if (kind === 'tmpfs') {
    const peer = await PeerCli.start(ctx, 'the downloader', indexPort, folder, ['--verbose']);
    return {
      fetch: (file, first) => (first ? peer.fetch(file, from) : peer.fetchAgain(file, from)),
      resumedPieces: () => resumed(peer.cli.stderr),
      close: () => peer.process.stop().then(() => {}),
    };
  }
  // ENOSPC is injected into this process's writes: the downloader must run here.
  const logs: string[] = [];
  const printed: string[] = [];
  const session = new PeerSession({
    server: { host: '127.0.0.1', port: indexPort },
    print: (line) => printed.push(line),
    log: (line) => logs.push(line),
  });
  await session.join('127.0.0.1', 0, folder);
  return {
    fetch: async (file) => {
      try {
        await session.search(file);
        await withDeadline(session.download('127.0.0.1', from), FETCH_TIMEOUT_MS, `the download of ${file}`);
        return { ok: true, line: printed.at(-1) ?? '' };
      } catch (error) {
        return { ok: false, line: describeError(error) };
      }
    },
    resumedPieces: () => resumed(logs),
    close: () => session.close(),
  };
}
