/**
 * The DHT daemon's control socket (the real `npm run peer -- dht` process) as a target of the
 * connection attacks. A well-behaved client on 127.0.0.1 keeps asking `help` and `status` and
 * checks each answer; newcomers from 127.0.0.1 connect and ask while the socket admits them. A
 * client that never reads sends thousands of commands: it is cut off.
 */
import { isDeepStrictEqual } from 'node:util';
import { HELP_LINES } from '../../peer/dht/control-commands.ts';
import type { AttackSocket } from '../helpers/attackers.ts';
import { makeTempDir } from '../helpers/files.ts';
import { withDeadline } from '../helpers/wait.ts';
import { ControlClient } from '../integration/dht-helpers.ts';
import type { StressContext } from './context.ts';
import { DAEMON_STARTED } from './dht-krpc.ts';
import type { Row } from './report.ts';
import { counted, IDLE_TIMEOUT_S, LINE_TIMEOUT_S, serveLoop, type Target } from './target.ts';

/** The control socket's default caps (README, "Limits"). */
const MAX_CLIENTS = 32;
const PER_IP = 16;
/** A control answer takes well under this on a busy machine. */
const ANSWER_TIMEOUT_MS = 15_000;
/** Resident memory the daemon may keep (see dht-krpc.ts): 1 MiB unread per client at most. */
const MEMORY_BUDGET_MIB = 300;
/** Commands a client that never reads sends: their answers are many times the 1 MiB bound. */
const NON_READER_COMMANDS = 20_000;
const HELP_ANSWER_BYTES = Buffer.byteLength(`${HELP_LINES.join('\n')}\n\n`);

export async function startControlTarget(ctx: StressContext, timeouts: 'short' | 'default'): Promise<Target> {
  const args = [
    'dht',
    '--dir',
    await makeTempDir('napshare-stress-'),
    '--port',
    '0',
    '--dht-port',
    '0',
    '--control',
    '0',
  ];
  if (timeouts === 'short')
    args.push('--control-idle-timeout', `${IDLE_TIMEOUT_S}`, '--control-line-timeout', `${LINE_TIMEOUT_S}`);
  const daemon = ctx.cli('peer', args, 'the DHT daemon');
  const port = Number(DAEMON_STARTED.exec(await daemon.waitFor(DAEMON_STARTED, 'stderr'))?.[3]);
  const client = await ControlClient.connect(port);
  const idle = timeouts === 'short' ? `${IDLE_TIMEOUT_S} s` : '10 min';
  const line = timeouts === 'short' ? `${LINE_TIMEOUT_S} s` : '30 s';
  return {
    name: 'DHT control socket',
    process: daemon,
    port,
    maxConnections: MAX_CLIENTS,
    maxPerIp: PER_IP,
    goodConnections: 1,
    // One attacking address: two would fill the 32 places (their share is half of them each).
    attackers: ['127.0.0.66'],
    lines: {
      perIp: () =>
        `Connection closed: already ${PER_IP} control clients from your address; try again later.\n\n`,
      full: `Connection closed: already ${MAX_CLIENTS} control clients; try again later.\n\n`,
      idle: `Connection closed: no command for ${idle}.\n\n`,
      unfinished: `Connection closed: a line was left unfinished for ${line}.\n\n`,
    },
    ownText: (socket) => socket.text,
    idleMs: IDLE_TIMEOUT_S * 1000,
    unfinishedMs: LINE_TIMEOUT_S * 1000,
    slowPrefix: 'hel',
    nonReader: async (socket: AttackSocket) => {
      socket.socket.pause();
      socket.write('help\n'.repeat(NON_READER_COMMANDS));
    },
    // Answers left unread past 1 MiB, or none read for the idle timeout: cut off, so it never gets
    // all the answers it asked for.
    nonReaderEnd: {
      cutAfterMs: IDLE_TIMEOUT_S * 1000,
      wasCut: (socket) => socket.bytesReceived < NON_READER_COMMANDS * HELP_ANSWER_BYTES,
    },
    memoryBudgetMiB: MEMORY_BUDGET_MIB,
    serve: (row) => asking(row, port, client),
    close: async () => {
      client.close();
      await daemon.stop();
    },
  };
}

/** `help` and `status` on the held connection, and now and then on a new one. */
function asking(row: Row, port: number, client: ControlClient) {
  return serveLoop((serving) => {
    const ask = async (on: ControlClient, command: string) => {
      const started = performance.now();
      const answer = await withDeadline(on.ask(command), ANSWER_TIMEOUT_MS, `the answer to "${command}"`);
      serving.answered(started);
      if (command === 'help')
        row.check(isDeepStrictEqual(answer, HELP_LINES), () => `help answered ${JSON.stringify(answer)}`);
      else
        row.check(
          /^Datagrams: \d+ received/.test(answer[3] ?? ''),
          () => `status answered ${JSON.stringify(answer)}`,
        );
    };
    const loop = async () => {
      for (let round = 0; !serving.stopped; round++) {
        await ask(client, round % 2 === 0 ? 'help' : 'status');
        if (round % 5 === 4)
          await serving.admission.newcomer(async () => {
            const newcomer = await ControlClient.connect(port);
            try {
              await ask(newcomer, 'help');
            } finally {
              newcomer.close();
              await newcomer.closed;
            }
          });
      }
    };
    return counted(row, loop(), 'the well-behaved control client');
  });
}
