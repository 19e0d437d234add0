/**
 * The index server (the real `npm run server`) killed and started again at its address, several
 * times, under peers that stay up (the real `npm run peer`): each time every peer joins again by
 * itself, with exactly its files — the ones it downloaded since included — the server prints its
 * JOIN line for each, SEARCH finds every holder, and a download between two peers goes through.
 */
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { freePort } from '../../bench/processes.ts';
import { makeTempDir, sha256File, writeRandomFile } from '../helpers/files.ts';
import { withDeadline } from '../helpers/wait.ts';
import type { StressContext } from './context.ts';
import { IndexSession } from './index-session.ts';
import { lineAfter, PeerCli } from './peer-cli.ts';
import type { Watched } from './processes.ts';
import type { Row } from './report.ts';

/** Peers retry every 0.2 s doubling up to 4 s: all are back well within this once it listens. */
const REJOIN_TIMEOUT_MS = 60_000;

interface Holder {
  peer: PeerCli;
  files: Set<string>;
}

export async function restartIndex(ctx: StressContext): Promise<void> {
  const restarts = ctx.profile.indexRestarts;
  const count = ctx.profile.restartPeers;
  const row = ctx.row(
    `index server killed and restarted ${restarts} times, ${count} peers re-joining each time`,
  );
  const port = await freePort();
  const start = () =>
    ctx.cli('server', ['--host', '127.0.0.1', '--port', `${port}`, '--verbose'], 'the index server');
  let server = start();
  await server.waitFor(`listening on 127.0.0.1:${port}`, 'stderr');
  const sha = new Map<string, string>();
  const holders: Holder[] = [];
  for (let i = 0; i < count; i++) {
    const dir = await makeTempDir('napshare-stress-');
    const file = `restart-${i}.bin`;
    sha.set(file, await writeRandomFile(path.join(dir, file), 200_000 + i));
    holders.push({ peer: await PeerCli.start(ctx, `peer ${i}`, port, dir), files: new Set([file]) });
  }
  for (let round = 1; round <= restarts; round++) {
    // A crash, or a clean stop: the peers cannot tell before their connection drops.
    const signal = round % 2 === 1 ? 'SIGKILL' : 'SIGTERM';
    await server.stop(signal);
    server = start();
    await server.waitFor(`listening on 127.0.0.1:${port}`, 'stderr');
    const problemsBefore = row.wrong + row.lost;
    await everyPeerRejoins(server, holders);
    await searchesRight(row, port, holders);
    // One peer downloads another's file: its UPDATE, and the next re-join, must list it too.
    const from = holders[round % count] as Holder;
    const to = holders[(round + 1) % count] as Holder;
    const file = `restart-${round % count}.bin`;
    if (!to.files.has(file)) {
      const outcome = await to.peer.fetch(file, from.peer.port);
      row.check(outcome.ok, () => `round ${round}: ${outcome.line}`);
      const got = await sha256File(path.join(to.peer.folder, file)).catch(() => 'no file');
      if (got !== sha.get(file)) row.lostFile(`round ${round}: ${file} downloaded as ${got}`);
      else to.files.add(file);
    }
    row.tries++;
    if (row.wrong + row.lost === problemsBefore) row.survived++;
    ctx.log(`restart ${round} (${signal}): every peer back`);
  }
  await searchesRight(row, port, holders);
  row.note(
    `SIGKILL and SIGTERM in turn; each time every peer re-joined by itself with its files (those downloaded since included), SEARCH exact, a download between two peers`,
  );
  await server.stop();
}

/** Waits for the server's JOIN line of every peer, each listing exactly the files it holds now. */
async function everyPeerRejoins(server: Watched, holders: Holder[]): Promise<void> {
  for (const { peer, files } of holders) {
    const prefix = `Peer 127.0.0.1:${peer.port} adicionado com arquivos`;
    const line = await withDeadline(
      lineAfter(server.cli, 'stdout', 0, (text) => text.startsWith(prefix), REJOIN_TIMEOUT_MS),
      REJOIN_TIMEOUT_MS,
      `peer 127.0.0.1:${peer.port} to join the restarted server`,
    );
    const listed = line.slice(prefix.length).trim().split(' ').filter(Boolean).sort();
    server.row?.check(
      isDeepStrictEqual(listed, [...files].sort()),
      () => `127.0.0.1:${peer.port} re-joined with ${listed.join(' ')}, not ${[...files].join(' ')}`,
    );
  }
}

/** A client of its own SEARCHes every file: exactly its holders, each announced with INFO. */
async function searchesRight(row: Row, port: number, holders: Holder[]): Promise<void> {
  const session = await IndexSession.connect(port);
  try {
    const joined = await session.request({ type: 'JOIN', ip: '127.0.0.1', port: 19_999, files: [] });
    row.check(
      isDeepStrictEqual(joined.reply, { type: 'JOIN_OK' }),
      () => `JOIN ${JSON.stringify(joined.reply)}`,
    );
    for (let i = 0; i < holders.length; i++) {
      const file = `restart-${i}.bin`;
      const expected = holders
        .filter((holder) => holder.files.has(file))
        .map((holder) => `127.0.0.1:${holder.peer.port}`)
        .sort();
      const { reply } = await session.request({ type: 'SEARCH', file });
      const peers = Array.isArray(reply.peers) ? [...(reply.peers as string[])].sort() : reply.peers;
      const caps = Object.fromEntries(expected.map((address) => [address, ['INFO']]));
      row.check(
        isDeepStrictEqual({ ...reply, peers }, { type: 'SEARCH_OK', peers: expected, caps }),
        () => `SEARCH ${file} answered ${JSON.stringify(reply)}, not ${expected.join(' ')}`,
      );
    }
  } finally {
    session.close();
    await session.closed;
  }
}
