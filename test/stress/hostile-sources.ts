/**
 * Uploaders that try to get a downloader to keep bytes it could not verify (test/helpers/
 * hostile-uploader.ts, lying-peer.ts, plain-peer.ts), against the real course peer: each announced
 * INFO at the index and then closes INFO, answers a malformed INFO_OK, refuses INFO, never answers
 * it, or sends bytes that do not match its hashes, or stands beside a plain holder of wrong bytes
 * (a downgrade). Never a success line, never a DOWNLOAD before INFO succeeded, nothing under the
 * final name. And an honest uploader flooded to its connection cap: every download is verified
 * or fails with one sentence, never saved unverified.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { download } from '../../peer/transfer/download.ts';
import { IndexServer } from '../../server/index-server.ts';
import { describeError } from '../../shared/errors.ts';
import { endAttack, idleFlood, loopbackAddress } from '../helpers/attackers.ts';
import { makeTempDir, sha256File, writeRandomFile } from '../helpers/files.ts';
import { type InfoFailure, startHostileUploader } from '../helpers/hostile-uploader.ts';
import { startLyingPeer } from '../helpers/lying-peer.ts';
import { startPlainPeer } from '../helpers/plain-peer.ts';
import { withDeadline } from '../helpers/wait.ts';
import type { StressContext } from './context.ts';
import { IndexSession } from './index-session.ts';
import { PeerCli } from './peer-cli.ts';

const MiB = 1024 * 1024;
/** The file server's cap on connections (README, "Limits"): the flood takes every one. */
const FILE_SERVER_MAX_CONNECTIONS = 256;

export async function hostileSources(ctx: StressContext): Promise<void> {
  const rounds = ctx.profile.hostileRounds;
  const row = ctx.row(
    `hostile uploaders that announced INFO (close INFO, malformed INFO_OK, refuse INFO, never answer, wrong bytes, beside a plain holder), ${rounds} rounds`,
  );
  const index = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
  ctx.defer(() => index.close());
  const indexPort = index.address().port;
  const into = await makeTempDir('napshare-stress-');
  const downloader = await PeerCli.start(ctx, 'the downloader', indexPort, into);
  /** Joins the index as a napshare peer does (with INFO), or as a course peer (without). */
  const announce = async (port: number, file: string, caps: boolean) => {
    const session = await IndexSession.connect(indexPort);
    ctx.defer(() => session.close());
    const join = { type: 'JOIN', ip: '127.0.0.1', port, files: [file], ...(caps ? { caps: ['INFO'] } : {}) };
    const { reply } = await session.request(join);
    if (reply.type !== 'JOIN_OK')
      throw new Error(`the hostile uploader could not join: ${JSON.stringify(reply)}`);
  };
  const unverified = (file: string, port: number) =>
    new RegExp(
      `^${file.replace('.', '\\.')} was not downloaded, as nothing unverified is saved: its peer 127\\.0\\.0\\.1:${port} must give piece hashes \\(INFO\\) and did not \\(.+\\)\\.$`,
    );
  const nothingSaved = async (file: string, when: string) => {
    const left = (await fs.readdir(into)).filter((name) => name.startsWith(file));
    if (left.includes(file)) row.lostFile(`${when}: ${file} saved under its name`);
    row.check(left.length === 0, () => `${when}: the folder holds ${left.join(', ')}`);
  };
  let n = 0;
  for (let round = 0; round < rounds; round++) {
    for (const how of ['close', 'malformed', 'refuse'] satisfies InfoFailure[]) {
      const file = `h${n++}.bin`;
      const hostile = await startHostileUploader(how, randomBytes(ctx.int(1, 6) * MiB + ctx.int(0, 999)));
      ctx.defer(hostile.close);
      await announce(hostile.port, file, true);
      const outcome = await downloader.fetch(file, hostile.port);
      row.tries++;
      const right =
        row.check(
          !outcome.ok && unverified(file, hostile.port).test(outcome.line),
          () => `${how}: ${outcome.line}`,
        ) &&
        row.check(
          hostile.requests.every((request) => request.type === 'INFO'),
          () => `${how}: it was sent a DOWNLOAD`,
        );
      await nothingSaved(file, how);
      if (right) row.survived++;
      hostile.close();
    }
    // Never answering: INFO waits 10 minutes in the CLI; napshare's engine with a short wait.
    const silent = await startHostileUploader('silent', randomBytes(MiB));
    ctx.defer(silent.close);
    const quiet = await withDeadline(
      download({
        sources: [{ host: '127.0.0.1', port: silent.port }],
        file: `h${n}.bin`,
        folder: into,
        infoTimeoutMs: 500,
        infoRetryDelayMs: 100,
      }).then(
        () => 'downloaded',
        (error: unknown) => describeError(error),
      ),
      60_000,
      'the download from a source that never answers INFO',
    );
    row.tries++;
    if (row.check(unverified(`h${n}.bin`, silent.port).test(quiet), () => `silent: ${quiet}`)) row.survived++;
    await nothingSaved(`h${n++}.bin`, 'silent');
    silent.close();

    // Wrong bytes under the right hashes: caught at the first piece.
    const truth = await makeTempDir('napshare-stress-');
    const lie = await makeTempDir('napshare-stress-');
    const file = `h${n++}.bin`;
    const size = ctx.int(2, 9) * MiB + ctx.int(0, 999);
    await writeRandomFile(path.join(truth, file), size);
    await writeRandomFile(path.join(lie, file), size);
    const liar = await startLyingPeer(path.join(truth, file), path.join(lie, file));
    ctx.defer(liar.close);
    await announce(liar.port, file, true);
    const lied = await downloader.fetch(file, liar.port);
    row.tries++;
    if (
      row.check(
        !lied.ok && /wrong content \(SHA-256 mismatch\)/.test(lied.line),
        () => `wrong bytes: ${lied.line}`,
      )
    )
      row.survived++;
    const there = await fs.readdir(into);
    if (there.includes(file)) row.lostFile(`wrong bytes: ${file} saved under its name`);

    // A downgrade: a holder that announced INFO and fails it, beside a plain one with wrong bytes.
    const beside = `h${n++}.bin`;
    const liarInfo = await startHostileUploader('close', randomBytes(MiB));
    ctx.defer(liarInfo.close);
    const plainDir = await makeTempDir('napshare-stress-');
    await writeRandomFile(path.join(plainDir, beside), MiB);
    const plain = await startPlainPeer(plainDir);
    ctx.defer(plain.close);
    await announce(liarInfo.port, beside, true);
    await announce(plain.port, beside, false);
    const all = await downloader.fetchFromAll(beside);
    row.tries++;
    if (
      row.check(
        !all.ok && unverified(beside, liarInfo.port).test(all.line),
        () => `downgrade: ${all.line}`,
      ) &&
      row.check(plain.requests.length === 0, () => 'downgrade: the plain holder was asked for the file')
    )
      row.survived++;
    await nothingSaved(beside, 'downgrade');
  }
  row.note('never a success line or a DOWNLOAD before INFO succeeded, nothing under the final name');
}

export async function floodedHonestUploader(ctx: StressContext): Promise<void> {
  const downloads = ctx.profile.floodedDownloads;
  const row = ctx.row(
    `an honest uploader flooded to its connection cap: ${downloads} downloads, verified or refused`,
  );
  const index = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
  ctx.defer(() => index.close());
  const source = await makeTempDir('napshare-stress-');
  const sha = new Map<string, string>();
  for (let i = 0; i < downloads; i++)
    sha.set(`f${i}.bin`, await writeRandomFile(path.join(source, `f${i}.bin`), 2 * MiB + i));
  const uploader = await PeerCli.start(ctx, 'the uploader', index.address().port, source);
  const into = await makeTempDir('napshare-stress-');
  const downloader = await PeerCli.start(ctx, 'the downloader', index.address().port, into);
  // Every place of its file server taken, from as many addresses: INFO gets BUSY.
  let flood = await idleFlood({ port: uploader.port, from: loopbackAddress }, FILE_SERVER_MAX_CONNECTIONS);
  ctx.defer(() => endAttack(flood));
  let verified = 0;
  let refused = 0;
  for (let i = 0; i < downloads; i++) {
    const file = `f${i}.bin`;
    // The first half while the flood lasts, the second after it ended.
    if (i === Math.floor(downloads / 2)) {
      await endAttack(flood);
      flood = [];
    }
    const stderr = downloader.cli.stderr.length;
    const outcome = await downloader.fetch(file, uploader.port);
    row.tries++;
    const said = downloader.cli.stderr.slice(stderr);
    row.check(
      !said.some((line) => line.includes('without verification')),
      () => `${file}: ${said.join(' | ')}`,
    );
    if (outcome.ok) {
      const got = await sha256File(path.join(into, file)).catch(() => 'no file');
      if (got !== sha.get(file)) row.lostFile(`${file} downloaded as ${got}`);
      else verified++;
    } else if (
      row.check(
        /^f\d+\.bin was not downloaded, as nothing unverified is saved: .*\(BUSY\)|maximum of 256 connections/.test(
          outcome.line,
        ),
        () => `${file}: ${outcome.line}`,
      )
    )
      refused++;
  }
  row.survived = verified + refused;
  row.check(
    verified >= downloads - Math.floor(downloads / 2),
    () => `only ${verified} downloads went through after the flood`,
  );
  row.note(`${refused} refused in one sentence while flooded, ${verified} verified; none saved unverified`);
}
