/**
 * Before the index benchmark times anything: its load connections JOIN (no files), and every
 * query is SEARCHed once and its reply compared with the population, so the timed runs measure
 * right answers. The replies are kept: redis-server serves the same bytes as GET values.
 */
import type net from 'node:net';
import { LineSplitter } from '../shared/line-splitter.ts';
import { CROWD_FILE_PORT } from './index-crowd.ts';
import { peerIp } from './index-names.ts';

/** Sends `lines` on `socket` and resolves with as many reply lines, in order. */
function exchange(socket: net.Socket, lines: readonly string[]): Promise<string[]> {
  const splitter = new LineSplitter(64 * 1024 * 1024);
  const replies: string[] = [];
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      replies.push(...splitter.push(chunk));
      if (replies.length >= lines.length) {
        socket.off('data', onData);
        resolve(replies);
      }
    };
    socket.on('data', onData);
    socket.write(lines.join(''));
  });
}

/**
 * JOINs each of `sockets` (from `ipOf(i)`), then SEARCHes each query once, and checks that every
 * reply lists exactly the peers that share the name. Fills `replies` (query -> reply line) and
 * resolves with the number of SEARCHes sent.
 */
export async function searchChecks(
  sockets: net.Socket[],
  queries: readonly string[],
  files: readonly (readonly string[])[],
  ipOf: (index: number) => string,
  replies: Map<string, string>,
): Promise<number> {
  await Promise.all(
    sockets.map(async (socket, i) => {
      const join = `${JSON.stringify({ type: 'JOIN', ip: ipOf(i), port: CROWD_FILE_PORT, files: [] })}\n`;
      const [reply] = await exchange(socket, [join]);
      if (reply !== '{"type":"JOIN_OK"}') throw new Error(`load connection ${i} could not JOIN: ${reply}`);
    }),
  );
  const wanted = new Set(queries);
  const holders = new Map<string, Set<string>>();
  files.forEach((names, peer) => {
    for (const name of names) {
      if (!wanted.has(name)) continue;
      const set = holders.get(name) ?? new Set<string>();
      set.add(`${peerIp(peer)}:${CROWD_FILE_PORT}`);
      holders.set(name, set);
    }
  });
  const share = Math.ceil(queries.length / sockets.length);
  await Promise.all(
    sockets.map(async (socket, i) => {
      const mine = queries.slice(i * share, (i + 1) * share);
      if (mine.length === 0) return;
      const lines = mine.map((file) => `${JSON.stringify({ type: 'SEARCH', file })}\n`);
      const got = await exchange(socket, lines);
      got.forEach((line, k) => {
        const file = mine[k] as string;
        const reply = JSON.parse(line) as { type: string; peers?: string[] };
        const expected = holders.get(file) ?? new Set<string>();
        const peers = new Set(reply.peers ?? []);
        if (
          reply.type !== 'SEARCH_OK' ||
          peers.size !== expected.size ||
          [...expected].some((peer) => !peers.has(peer))
        )
          throw new Error(`SEARCH ${file}: expected ${expected.size} holders, got ${line.slice(0, 300)}`);
        replies.set(file, line);
      });
    }),
  );
  return queries.length;
}
