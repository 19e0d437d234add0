/**
 * The netcat chat server (the real `npm run server -- chat` process) as a target of the
 * connection attacks. Two well-behaved members on 127.0.0.1 take turns saying a line and check
 * that the other gets it exactly, and newcomers from 127.0.0.1 join and are heard while the
 * server admits them. A client that never reads is a member that stays silent too.
 */
import { type AttackSocket, connectFrom, endAttack } from '../helpers/attackers.ts';
import { withDeadline } from '../helpers/wait.ts';
import type { StressContext } from './context.ts';
import { pause } from './deadline.ts';
import type { Row } from './report.ts';
import { counted, IDLE_TIMEOUT_S, LINE_TIMEOUT_S, serveLoop, type Target } from './target.ts';

/** The chat server's default caps (README, "Limits"). */
const MAX_CLIENTS = 100;
const PER_IP = 16;
/** A line said reaches the other member well within this on a busy machine. */
const HEARD_TIMEOUT_MS = 15_000;
/** Each member says a line this often: under the chat rate (5 a second), over the idle timeout. */
const TURN_MS = 250;
/** Resident memory the chat server may keep: a Node process, and 1 MiB unread per client at most. */
const MEMORY_BUDGET_MIB = 300;
const IDLE_LINE = `Nothing sent for ${IDLE_TIMEOUT_S} s; disconnected.\n`;

export async function startChatTarget(ctx: StressContext, timeouts: 'short' | 'default'): Promise<Target> {
  const args = ['chat', '--host', '127.0.0.1', '--port', '0'];
  if (timeouts === 'short')
    args.push('--idle-timeout', `${IDLE_TIMEOUT_S}`, '--line-timeout', `${LINE_TIMEOUT_S}`);
  const server = ctx.cli('server', args, 'the chat server');
  const port = Number(
    /:(\d+)$/.exec(await server.waitFor(/^chat server listening on 127\.0\.0\.1:\d+$/, 'stderr'))?.[1],
  );
  const members = [await connectFrom(port, '127.0.0.1'), await connectFrom(port, '127.0.0.1')];
  const tag = ctx.seed.toString(36);
  // Every member hears the well-behaved members' lines, hostile ones included.
  const relayed = new RegExp(`^${tag} line \\d+\n`, 'gm');
  let serial = 0;
  return {
    name: 'chat server',
    process: server,
    port,
    maxConnections: MAX_CLIENTS,
    maxPerIp: PER_IP,
    goodConnections: members.length,
    attackers: ['127.0.0.66', '127.0.0.67', '127.0.0.68'],
    lines: {
      perIp: () => `Too many clients from your address (${PER_IP}); try again later.\n`,
      full: `Chat server full (${MAX_CLIENTS} clients); try again later.\n`,
      idle: IDLE_LINE,
      unfinished: `Line left unfinished for ${LINE_TIMEOUT_S} s; disconnected.\n`,
    },
    ownText: (socket) => socket.text.replace(relayed, ''),
    idleMs: IDLE_TIMEOUT_S * 1000,
    unfinishedMs: LINE_TIMEOUT_S * 1000,
    slowPrefix: 'this line never ends ',
    nonReader: async (socket: AttackSocket) => {
      socket.socket.pause();
    },
    // Silent as well as not reading: dismissed for silence (its line is the last it gets), then
    // dropped after the 2 s linger.
    nonReaderEnd: {
      cutAfterMs: IDLE_TIMEOUT_S * 1000 + 2000,
      wasCut: (socket) => socket.text.replace(relayed, '') === IDLE_LINE,
    },
    memoryBudgetMiB: MEMORY_BUDGET_MIB,
    serve: (row) =>
      serveLoop((serving) => {
        const heard = async (speaker: AttackSocket, listener: AttackSocket) => {
          const line = `${tag} line ${serial++}\n`;
          const started = performance.now();
          speaker.write(line);
          await hearing(listener, line, row);
          serving.answered(started);
        };
        const loop = async () => {
          while (!serving.stopped) {
            await heard(members[0] as AttackSocket, members[1] as AttackSocket);
            await heard(members[1] as AttackSocket, members[0] as AttackSocket);
            if (serial % 8 === 0)
              await serving.admission.newcomer(async () => {
                const newcomer = await connectFrom(port, '127.0.0.1');
                try {
                  await heard(newcomer, members[0] as AttackSocket);
                } finally {
                  await endAttack([newcomer]);
                }
              });
            await pause(TURN_MS);
          }
        };
        return counted(row, loop(), 'the well-behaved chat members');
      }),
    close: async () => {
      await endAttack(members);
      await server.stop();
    },
  };
}

/** Waits until `listener` has received `line` (a whole line), with a deadline; wrong if not. */
async function hearing(listener: AttackSocket, line: string, row: Row): Promise<void> {
  const deadline = performance.now() + HEARD_TIMEOUT_MS;
  listener.socket.resume();
  while (!`\n${listener.text}`.includes(`\n${line}`)) {
    if (listener.isClosed)
      throw new Error(`a well-behaved chat member was disconnected: ${listener.text.slice(-200)}`);
    if (performance.now() > deadline) {
      row.wrongAnswer(
        `the line ${JSON.stringify(line)} did not reach the other member in ${HEARD_TIMEOUT_MS} ms`,
      );
      return;
    }
    await withDeadline(
      new Promise<void>((resolve) => listener.socket.once('data', () => resolve())),
      deadline - performance.now(),
      'a chat line',
    ).catch(() => {});
  }
}
