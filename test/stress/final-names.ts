/**
 * Races over a download's final name, with the real course peer (`npm run peer`): a file the user
 * saves under the name while the download runs (it wins; the verified `.part` finishes the next
 * DOWNLOAD), two downloads of one file into one folder at once (the second is refused; they never
 * share a `.part`), and a shared file that changes while it is sent (one consistent version).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { IndexServer } from '../../server/index-server.ts';
import { makeTempDir, sha256File, writeRandomFile } from '../helpers/files.ts';
import { withDeadline } from '../helpers/wait.ts';
import type { StressContext } from './context.ts';
import { appears, partReaches } from './folder-watch.ts';
import { FETCH_TIMEOUT_MS, PeerCli } from './peer-cli.ts';
import type { Row } from './report.ts';

const MiB = 1024 * 1024;

interface Network {
  indexPort: number;
  source: string;
  uploader: PeerCli;
  /** SHA-256 and size of each file shared, by name. */
  files: Map<string, { sha: string; size: number }>;
}

/**
 * An index, and an uploader sharing `name(round)` for each round (random sizes from `minMiB` to
 * `maxMiB`), capped so that a download lasts long enough to race with.
 */
async function network(
  ctx: StressContext,
  name: (round: number) => string,
  minMiB: number,
  maxMiB: number,
  args: string[] = [],
): Promise<Network> {
  const index = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
  ctx.defer(() => index.close());
  const source = await makeTempDir('napshare-stress-');
  const files = new Map<string, { sha: string; size: number }>();
  for (let round = 0; round < ctx.profile.hostileRounds; round++) {
    const size = ctx.int(minMiB, maxMiB) * MiB + ctx.int(0, 999);
    files.set(name(round), { size, sha: await writeRandomFile(path.join(source, name(round)), size) });
  }
  const uploader = await PeerCli.start(ctx, 'the uploader', index.address().port, source, [
    '--max-upload-rate',
    '20MB',
    ...args,
  ]);
  return { indexPort: index.address().port, source, uploader, files };
}

async function sha(file: string): Promise<string> {
  return sha256File(file).catch(() => 'no file');
}

export async function overwriteRace(ctx: StressContext): Promise<void> {
  const rounds = ctx.profile.hostileRounds;
  const row = ctx.row(
    `a file saved under the name during the download, ${rounds} rounds: it is never overwritten`,
  );
  const net = await network(ctx, (round) => `v${round}.bin`, 10, 20);
  for (let round = 0; round < rounds; round++) {
    const file = `v${round}.bin`;
    const { size, sha: original } = net.files.get(file) as { sha: string; size: number };
    const into = await makeTempDir('napshare-stress-');
    const downloader = await PeerCli.start(ctx, 'the downloader', net.indexPort, into);
    const finalPath = path.join(into, file);
    const reached = partReaches(`${finalPath}.part`, Math.floor(size / 3));
    const outcome = downloader.fetch(file, net.uploader.port);
    await withDeadline(reached.promise, FETCH_TIMEOUT_MS, `${file}.part to hold a third of it`).finally(
      reached.stop,
    );
    // The user saves a file of their own under that name.
    const mine = randomBytes(ctx.int(1, 5000));
    await fs.writeFile(finalPath, mine);
    const ended = await outcome;
    row.tries++;
    const before = row.wrong + row.lost;
    row.check(
      !ended.ok &&
        ended.line ===
          `${file} appeared in the folder during the download and is left as it is; the verified copy is kept in ${file}.part: move the other ${file} away and DOWNLOAD again to finish at once.`,
      () => `round ${round}: ${ended.line}`,
    );
    if (!(await fs.readFile(finalPath)).equals(mine))
      row.lostFile(`round ${round}: the user's ${file} was replaced`);
    row.check(
      (await sha(`${finalPath}.part`)) === original,
      () => `round ${round}: the kept .part is not the file`,
    );
    // Moved away: the next DOWNLOAD finishes from the .part.
    await fs.rename(finalPath, path.join(into, `mine-${file}`));
    const again = await downloader.fetchAgain(file, net.uploader.port);
    row.check(again.ok, () => `round ${round}: after moving it away: ${again.line}`);
    if ((await sha(finalPath)) !== original) row.lostFile(`round ${round}: ${file} is not the original`);
    if (!(await fs.readFile(path.join(into, `mine-${file}`))).equals(mine))
      row.lostFile(`round ${round}: the user's file changed`);
    if (row.wrong + row.lost === before) row.survived++;
    await downloader.process.stop();
  }
  row.note(
    'the file saved meanwhile left as it is each time, the verified .part kept and named on the next DOWNLOAD',
  );
}

export async function concurrentDownloads(ctx: StressContext): Promise<void> {
  const rounds = ctx.profile.hostileRounds;
  const row = ctx.row(
    `two downloads of one file into one folder at once, ${rounds} rounds: the second refused`,
  );
  const net = await network(ctx, (round) => `c${round}.bin`, 8, 16);
  for (let round = 0; round < rounds; round++) {
    const file = `c${round}.bin`;
    const original = net.files.get(file)?.sha;
    const into = await makeTempDir('napshare-stress-');
    const [first, second] = [
      await PeerCli.start(ctx, 'the first downloader', net.indexPort, into),
      await PeerCli.start(ctx, 'the second downloader', net.indexPort, into),
    ];
    const locked = appears(path.join(into, `${file}.part.lock`));
    const firstOutcome = first.fetch(file, net.uploader.port);
    await withDeadline(
      locked.promise,
      FETCH_TIMEOUT_MS,
      `the first download to take ${file}.part.lock`,
    ).finally(locked.stop);
    const secondOutcome = await second.fetch(file, net.uploader.port);
    row.tries++;
    const before = row.wrong + row.lost;
    row.check(
      !secondOutcome.ok &&
        // "another process" when the lock is read before its holder wrote its pid into it.
        [`process ${first.process.pid}`, 'another process'].some(
          (who) =>
            secondOutcome.line ===
            `${file} is already being downloaded into this folder by ${who} (see ${file}.part.lock); DOWNLOAD it again once that download ends.`,
        ),
      () => `round ${round}: the second download said ${secondOutcome.line}`,
    );
    const firstEnded = await firstOutcome;
    row.check(firstEnded.ok, () => `round ${round}: the first download said ${firstEnded.line}`);
    if ((await sha(path.join(into, file))) !== original)
      row.lostFile(`round ${round}: ${file} is not the original`);
    await expectOnly(row, into, [file], `round ${round}`);
    if (row.wrong + row.lost === before) row.survived++;
    await Promise.all([first.process.stop(), second.process.stop()]);
  }
  row.note('IN_PROGRESS for the second each time, the first verified, no .part or lock left');
}

export async function changingFile(ctx: StressContext): Promise<void> {
  const rounds = ctx.profile.hostileRounds;
  const row = ctx.row(`a shared file written to while it is sent, ${rounds} rounds: one consistent version`);
  // --verbose: the uploader logs the transfer it cuts.
  const net = await network(ctx, (round) => `w${round}.bin`, 12, 20, ['--verbose']);
  for (let round = 0; round < rounds; round++) {
    const file = `w${round}.bin`;
    const shared = path.join(net.source, file);
    const size = net.files.get(file)?.size as number;
    const into = await makeTempDir('napshare-stress-');
    const downloader = await PeerCli.start(ctx, 'the downloader', net.indexPort, into);
    const reached = partReaches(path.join(into, `${file}.part`), Math.floor(size / 3));
    const outcome = downloader.fetch(file, net.uploader.port);
    await withDeadline(reached.promise, FETCH_TIMEOUT_MS, `${file}.part to hold a third of it`).finally(
      reached.stop,
    );
    // Written to in place (same inode, new mtime), at its start and at its end.
    const fd = openSync(shared, 'r+');
    try {
      writeSync(fd, randomBytes(MiB), 0, MiB, 0);
      writeSync(fd, randomBytes(MiB), 0, MiB, size - MiB);
    } finally {
      closeSync(fd);
    }
    const now = await sha(shared);
    const ended = await outcome;
    row.tries++;
    const before = row.wrong + row.lost;
    row.check(ended.ok, () => `round ${round}: ${ended.line}`);
    row.check(
      net.uploader.cli.stderr.some((line) =>
        line.endsWith(`${file} changed while it was being sent; the transfer is cut.`),
      ),
      () => `round ${round}: the uploader did not cut the transfer of the changed file`,
    );
    const got = await sha(path.join(into, file));
    // The version the uploader has now, whole: never pieces of two versions.
    if (got !== now) row.lostFile(`round ${round}: ${file} is ${got}, not the new version ${now}`);
    await expectOnly(row, into, [file], `round ${round}`);
    if (row.wrong + row.lost === before) row.survived++;
    await downloader.process.stop();
  }
  row.note('the transfer cut at the change each time, and the new version downloaded whole, verified');
}

async function expectOnly(row: Row, folder: string, names: string[], when: string): Promise<void> {
  const left = (await fs.readdir(folder)).sort();
  row.check(left.join() === [...names].sort().join(), () => `${when}: the folder holds ${left.join(', ')}`);
}
