/**
 * The gossip CLI, with the seed's intervals (Hello every 1 s), greeted by 200 peers at once (raw
 * UDP sockets on 127.0.0.1 sending the seed's Hello bytes): the table is printed at most once a
 * second, each print a whole table in the usual format, and the 200 peers all show as active.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePeerTable } from '../../peer/gossip/table-format.ts';
import { type CliProcess, killAll, runCli } from '../helpers/cli.ts';

const HELLO = Buffer.from([104, 1, 1, 2]);
const PEERS = 200;

const sockets: dgram.Socket[] = [];
afterEach(async () => {
  await Promise.all(
    sockets.splice(0).map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
  );
  await killAll();
});

/** Every table printed so far: [header index, rows], each checked to be complete. */
function tables(cli: CliProcess): Map<string, string>[] {
  const found: Map<string, string>[] = [];
  for (let i = 0; i < cli.stdout.length; i++) {
    if (!cli.stdout[i]?.startsWith('peers of ')) continue;
    const table = parsePeerTable(cli.stdout.slice(i));
    if (table) found.push(table.peers);
  }
  return found;
}

describe('gossip: 200 peers greeting at once', () => {
  it('print at most one table a second, each one whole', async () => {
    const cli = runCli('peer', [
      'gossip',
      '0',
      '127.0.0.1',
      '0',
      '--host',
      '127.0.0.1',
      '--max-peers',
      '256',
    ]);
    const header = await cli.waitFor(/^peers of 127\.0\.0\.1:\d+: 0 \(0 active\)$/);
    const port = Number(/:(\d+):/.exec(header)?.[1]);
    for (let i = 0; i < PEERS; i++) {
      const socket = dgram.createSocket('udp4');
      socket.on('message', () => {});
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      sockets.push(socket);
    }
    // Each peer says Hello every second, as the seed's peers do.
    const greet = () => {
      for (const socket of sockets) socket.send(HELLO, port, '127.0.0.1');
    };
    const startedAt = performance.now();
    greet();
    const timer = setInterval(greet, 1000);
    let deadline: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        cli.waitFor(`peers of 127.0.0.1:${port}: ${PEERS} (${PEERS} active)`),
        new Promise((_, reject) => {
          deadline = setTimeout(
            () => reject(new Error(`no table with ${PEERS} active peers within 20 s`)),
            20_000,
          );
        }),
      ]);
      // Then its rows, which follow its header.
      const headerAt = cli.stdout.lastIndexOf(`peers of 127.0.0.1:${port}: ${PEERS} (${PEERS} active)`);
      await cli.waitForLines(headerAt + 1 + PEERS);
    } finally {
      clearTimeout(deadline);
      clearInterval(timer);
    }
    const seconds = (performance.now() - startedAt) / 1000;
    const printed = tables(cli);
    console.log(
      `${PEERS} peers: ${printed.length} tables, ${cli.stdout.length} lines in ${seconds.toFixed(1)} s`,
    );
    // The first table (alone, at start), then one a second at most.
    expect(printed.length).toBeLessThanOrEqual(1 + Math.ceil(seconds) + 1);
    // Every line belongs to a whole table: a header, then exactly its rows.
    const rows = printed.reduce((sum, peers) => sum + peers.size, 0);
    expect(cli.stdout.length).toBe(printed.length + rows);
    expect(cli.stdout.length).toBeLessThanOrEqual(printed.length * (PEERS + 1));
    cli.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  });
});
