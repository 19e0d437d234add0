/**
 * `npm run peer -- gossip LOCALPORT REMOTEIP REMOTEPORT` as real processes on 127.0.0.1. Each binds
 * port 0 and the test learns its port from the first table it prints ("peers of 127.0.0.1:PORT").
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePeerTable } from '../../peer/gossip/table-format.ts';
import { type CliProcess, killAll, runCli, WAIT_TIMEOUT_MS } from '../helpers/cli.ts';
import { expectSeedIntervals, measureGossipIntervals } from '../helpers/gossip-intervals.ts';

/** The seed's intervals (1 s, 10 s, 4 s) divided by 5. */
const SCALE = 5;
const HELLO_MS = 1000 / SCALE;
const TIMEOUT_MS = 4000 / SCALE;
const FAST = [
  '--hello-interval',
  `${HELLO_MS}`,
  '--request-interval',
  `${10_000 / SCALE}`,
  '--timeout',
  `${TIMEOUT_MS}`,
];

afterEach(killAll);

/** The newest complete table printed by `cli`. */
function latestTable(cli: CliProcess): Map<string, string> | undefined {
  for (let i = cli.stdout.length - 1; i >= 0; i--) {
    const table = parsePeerTable(cli.stdout.slice(i));
    if (table) return table.peers;
  }
  return undefined;
}

/** Waits, line by line, until the newest table satisfies `test` (`what`), within one deadline. */
async function untilTable(
  cli: CliProcess,
  test: (peers: Map<string, string>) => boolean,
  what: string,
): Promise<Map<string, string>> {
  const deadline = performance.now() + WAIT_TIMEOUT_MS;
  for (;;) {
    const peers = latestTable(cli);
    if (peers && test(peers)) return peers;
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`no table of the node shows ${what}; stdout: ${cli.stdout.join(' | ')}`);
    await cli.waitForLines(cli.stdout.length + 1, 'stdout', left);
  }
}

async function startGossip(
  bootstrapPort: number,
  extra: string[] = [],
): Promise<{ cli: CliProcess; address: string }> {
  const cli = runCli('peer', [
    'gossip',
    '0',
    '127.0.0.1',
    `${bootstrapPort}`,
    '--host',
    '127.0.0.1',
    ...FAST,
    ...extra,
  ]);
  const header = await cli.waitFor(/^peers of 127\.0\.0\.1:\d+: /);
  return { cli, address: /^peers of (\S+):/.exec(header)?.[1] as string };
}

const portOf = (address: string) => Number(address.split(':')[1]);

describe('gossip CLI: three processes in a chain', () => {
  it('converge to know each other, and forget a killed one within the scaled 5 s', async () => {
    const a = await startGossip(0);
    const b = await startGossip(portOf(a.address));
    const c = await startGossip(portOf(b.address));
    const all = [a, b, c];
    // C was told only of B, A of nobody: each must end up with the two others active.
    await Promise.all(
      all.map((node) =>
        untilTable(
          node.cli,
          (peers) => all.every((other) => other === node || peers.get(other.address) === 'active'),
          'the two others active',
        ),
      ),
    );
    for (const node of all) expect(latestTable(node.cli)?.has(node.address)).toBe(false);

    const killedAt = performance.now();
    c.cli.kill('SIGKILL');
    const gone = await Promise.all(
      [a, b].map(async (node) => {
        const peers = await untilTable(node.cli, (table) => !table.has(c.address), `${c.address} gone`);
        return { peers, after: performance.now() - killedAt };
      }),
    );
    const seconds = gone.map(({ after }) => (after / 1000).toFixed(2));
    console.log(
      `killed peer removed after ${seconds.join(' s and ')} s (timeout ${TIMEOUT_MS} ms, hello ${HELLO_MS} ms)`,
    );
    for (const { peers, after } of gone) {
      expect(peers.size).toBe(1);
      // Not before the timeout (less the last Hello's age). The upper bound leaves a loaded 2-core
      // machine 2 s of lateness across three processes, and still fails a node that ignores
      // --timeout (the default 4 s) or misreads it.
      expect(after).toBeGreaterThanOrEqual(TIMEOUT_MS - HELLO_MS);
      expect(after).toBeLessThan(TIMEOUT_MS + HELLO_MS + 2000);
    }
    expect(latestTable(a.cli)?.get(b.address)).toBe('active');
  });
});

describe("gossip CLI: the seed's intervals are the defaults (seed 004, 1)", () => {
  it('without interval flags, greets every 1 s, asks every 10 s and drops a peer silent for 4 s', async () => {
    // --target-peers 1: with one active peer the node stops seeking, so Peer Requests keep to schedule.
    const cli = runCli('peer', [
      'gossip',
      '0',
      '127.0.0.1',
      '0',
      '--host',
      '127.0.0.1',
      '--target-peers',
      '1',
    ]);
    const header = await cli.waitFor(/^peers of 127\.0\.0\.1:\d+: /);
    const port = portOf(/^peers of (\S+):/.exec(header)?.[1] as string);
    const measured = await measureGossipIntervals(port, async (address) => {
      await untilTable(cli, (peers) => !peers.has(address), `${address} removed`);
    });
    console.log(`gossip CLI defaults measured: ${JSON.stringify(measured)}`);
    expectSeedIntervals(measured);
  }, 45_000);
});

describe('gossip CLI: interop, output and arguments', () => {
  it('prints a foreign peer that greets it with hand-written bytes, and traces datagrams with --verbose', async () => {
    const { cli, address } = await startGossip(0, ['--verbose']);
    expect(cli.stdout[0]).toBe(`peers of ${address}: 0 (0 active)`);
    await cli.waitFor(`[gossip] listening on ${address}`, 'stderr');
    const foreign = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => foreign.bind(0, '127.0.0.1', resolve));
    const foreignAddress = `127.0.0.1:${foreign.address().port}`;
    const greeted = new Promise<Buffer>((resolve) => foreign.once('message', resolve));
    const timer = setInterval(
      () => foreign.send(Buffer.from([104, 1, 1, 2]), portOf(address), '127.0.0.1'),
      HELLO_MS,
    );
    try {
      await untilTable(cli, (peers) => peers.get(foreignAddress) === 'active', `${foreignAddress} active`);
      expect(await greeted).toEqual(Buffer.from([104, 1, 1, 2, 2, 2]));
    } finally {
      clearInterval(timer);
      foreign.close();
    }
    const rows = cli.stdout.filter((line) => line.includes(foreignAddress));
    expect(rows[0]).toMatch(
      new RegExp(`^ {2}${foreignAddress.replaceAll('.', '\\.')} active age \\d+\\.\\ds stable \\d+\\.\\ds$`),
    );
    await cli.waitFor(`[gossip] recv 4 bytes from ${foreignAddress}: hello`, 'stderr');
    await cli.waitFor(`[gossip] send 6 bytes to ${foreignAddress}: hello, peer-request`, 'stderr');
    cli.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  });

  it('refuses bad arguments with one sentence and exit code 1', async () => {
    const cases: [string[], RegExp][] = [
      [['0', '127.0.0.1'], /Expected LOCALPORT REMOTEIP REMOTEPORT/],
      [['0', 'not-an-ip', '4200'], /Invalid IP address "not-an-ip"/],
      [['70000', '127.0.0.1', '4200'], /Invalid port "70000"/],
      [['0', '127.0.0.1', '4200', '--hello-interval', '500', '--timeout', '400'], /--timeout must be longer/],
      [['0', '127.0.0.1', '4200', '--max-peers', '0'], /--max-peers needs an integer from 1/],
      [
        ['0', '127.0.0.1', '4200', '--max-peers', '4', '--target-peers', '5'],
        /--target-peers needs an integer from 1 to 4/,
      ],
      [['0', '0.0.0.0', '4200'], /0\.0\.0\.0:4200 is this node itself or not reachable/],
    ];
    await Promise.all(
      cases.map(async ([args, message]) => {
        const cli = runCli('peer', ['gossip', ...args, '--host', '127.0.0.1']);
        expect(await cli.exited).toBe(1);
        expect(cli.stdout).toEqual([]);
        expect(cli.stderr.join('\n')).toMatch(message);
      }),
    );
  });

  it('prints its usage with --help', async () => {
    const cli = runCli('peer', ['gossip', '--help']);
    expect(await cli.exited).toBe(0);
    expect(cli.stdout[0]).toBe('Usage: npm run -s peer -- gossip LOCALPORT REMOTEIP REMOTEPORT [options]');
    for (const flag of [
      '--host',
      '--hello-interval',
      '--request-interval',
      '--timeout',
      '--max-peers',
      '--target-peers',
      '--min-peers',
      '--verbose',
    ]) {
      expect(cli.stdout.join('\n')).toContain(flag);
    }
  });

  it('says clearly when LOCALPORT is taken', async () => {
    const { address } = await startGossip(0);
    const second = runCli('peer', ['gossip', `${portOf(address)}`, '127.0.0.1', '0', '--host', '127.0.0.1']);
    expect(await second.exited).toBe(1);
    expect(second.stderr.join('\n')).toMatch(/Port \d+ on 127\.0\.0\.1 is already in use/);
  });
});
