/**
 * The index server (the real `npm run server` process) as a target of the connection attacks:
 * three well-behaved peers (index-good-peers.ts) check every answer throughout, new connections
 * from 127.0.0.1 join while the server admits them, and clients that never read are joined
 * members pipelining LISTs (a joined peer is never timed out: they hold their share, harmlessly).
 */
import type { AttackSocket } from '../helpers/attackers.ts';
import type { StressContext } from './context.ts';
import { GoodPeers } from './index-good-peers.ts';
import { IDLE_TIMEOUT_S, LINE_TIMEOUT_S, type Target } from './target.ts';

/** The index server's default caps (README, "Limits"). */
const PER_IP = 64;
/** Its cap in the flood: the default 16,384 would make the flood, not the server, the slow part. */
const FLOOD_MAX_CONNECTIONS = 1000;
/** RSS an index server may keep after an attack (see index-frames.ts). */
const MEMORY_BUDGET_MIB = 400;

export async function startIndexTarget(ctx: StressContext, timeouts: 'short' | 'default'): Promise<Target> {
  const args = ['--host', '127.0.0.1', '--port', '0'];
  if (timeouts === 'short')
    args.push('--idle-timeout', `${IDLE_TIMEOUT_S}`, '--line-timeout', `${LINE_TIMEOUT_S}`);
  else args.push('--max-connections', `${FLOOD_MAX_CONNECTIONS}`);
  const server = ctx.cli('server', args, 'the index server');
  const port = Number(/:(\d+)$/.exec(await server.waitFor(/^listening on 127\.0\.0\.1:\d+$/, 'stderr'))?.[1]);
  const good = await GoodPeers.join(port, ctx.seed.toString(36), 20_001);
  const error = (code: string, message: string) => `${JSON.stringify({ type: 'ERROR', code, message })}\n`;
  const maxConnections = timeouts === 'short' ? 16_384 : FLOOD_MAX_CONNECTIONS;
  return {
    name: 'index server',
    process: server,
    port,
    maxConnections,
    maxPerIp: PER_IP,
    goodConnections: 3,
    attackers: ['127.0.0.66', '127.0.0.67', '127.0.0.68'],
    lines: {
      perIp: (ip) =>
        error(
          'TOO_MANY_CONNECTIONS',
          `Your address ${ip} already has ${PER_IP} connections open here; close one and try again.`,
        ),
      full: error(
        'SERVER_BUSY',
        `The server already serves its maximum of ${maxConnections} connections; try again later.`,
      ),
      idle: error('IDLE_TIMEOUT', `No request for ${IDLE_TIMEOUT_S} s; the connection is closed.`),
      unfinished: error(
        'LINE_TIMEOUT',
        `A line was left unfinished for ${LINE_TIMEOUT_S} s; the connection is closed.`,
      ),
    },
    ownText: (socket) => socket.text,
    idleMs: IDLE_TIMEOUT_S * 1000,
    unfinishedMs: LINE_TIMEOUT_S * 1000,
    slowPrefix: '{"type":"JOIN","ip":"',
    nonReader: async (socket: AttackSocket, index: number) => {
      socket.socket.pause();
      const ip = socket.socket.localAddress as string;
      socket.write(
        `${JSON.stringify({ type: 'JOIN', ip, port: 40_000 + index, files: [`nr${index}.bin`], alias: `nr${index}` })}\n`,
      );
      socket.write('{"type":"LIST"}\n'.repeat(2000));
    },
    nonReaderEnd: { heldForMs: 3000 },
    memoryBudgetMiB: MEMORY_BUDGET_MIB,
    serve: (row) => {
      const running = good.run(ctx.seed, row);
      return {
        admission: good.admission,
        stop: async () => {
          good.stop();
          await running;
          return { answers: good.answers, latenciesMs: good.latenciesMs };
        },
      };
    },
    close: async () => {
      good.close();
      await server.stop();
    },
  };
}
