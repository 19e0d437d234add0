/**
 * A DHT daemon (the real CLI process) under a flood of random and mutated KRPC datagrams over real
 * UDP on 127.0.0.1 (test/helpers/krpc-fuzz.ts, paced by test/helpers/krpc-flood.ts so that the
 * daemon reads every one). Afterwards it is still running, answers `help` on its control socket,
 * finds a file another node published and is found by it: its routing table and store survived.
 * 10 000 datagrams here; `KRPC_FUZZ_DATAGRAMS=100000 npx vitest run test/integration/dht-krpc-fuzz.test.ts`
 * for the long run (KRPC_FUZZ_SEED picks another seed; the seed is printed).
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HELP_LINES } from '../../peer/dht/control-commands.ts';
import { DhtDaemon } from '../../peer/dht/daemon.ts';
import { killAll, runCli } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, writeRandomFile } from '../helpers/files.ts';
import { floodKrpc } from '../helpers/krpc-flood.ts';
import { KrpcFuzzer } from '../helpers/krpc-fuzz.ts';
import { ControlClient } from './dht-helpers.ts';

const DATAGRAMS = Number(process.env.KRPC_FUZZ_DATAGRAMS ?? 10_000);
const SEED = Number(process.env.KRPC_FUZZ_SEED ?? 20_261_201);
/** --verbose lines about single datagrams per second (dht-node.ts), and the summary of the rest. */
const DATAGRAM_LOG_LINES_PER_SECOND = 10 + 1;

const opened: { close(): unknown }[] = [];
afterAll(async () => {
  for (const item of opened) await item.close();
  await killAll();
  await removeTempDirs();
});

const STARTED =
  /^dht daemon: dht udp 127\.0\.0\.1:(\d+), file server tcp 127\.0\.0\.1:(\d+), control tcp 127\.0\.0\.1:(\d+)/;

describe('a DHT daemon under random and mutated KRPC datagrams', () => {
  it(
    `takes ${DATAGRAMS} of them and goes on answering, finding and being found`,
    async () => {
      const attackedDir = await makeTempDir();
      await writeRandomFile(path.join(attackedDir, 'attacked.bin'), 3000);
      const daemon = runCli(
        'peer',
        [
          'dht',
          '--dir',
          await makeTempDir(),
          '--port',
          '0',
          '--dht-port',
          '0',
          '--control',
          '0',
          '--verbose',
        ],
        { cwd: attackedDir },
      );
      const [, dhtPort, filePort, controlPort] = (
        STARTED.exec(await daemon.waitFor(STARTED, 'stderr')) ?? []
      ).map(Number) as [number, number, number, number];
      const control = await ControlClient.connect(controlPort);
      opened.push({ close: () => control.close() });

      // Another node joins through the attacked one and publishes; the attacked one publishes too.
      const other = await DhtDaemon.start({
        dir: await makeTempDir(),
        host: '127.0.0.1',
        port: 0,
        dhtPort: 0,
        controlPort: null,
        bootstrap: { kind: 'nodes', nodes: [{ host: '127.0.0.1', port: dhtPort }] },
      });
      opened.push(other);
      await other.node.ready;
      const otherDir = await makeTempDir();
      await writeRandomFile(path.join(otherDir, 'othernode.bin'), 3000);
      expect((await other.run(`publish ${otherDir}`)).lines).toEqual([`Published 1 file from ${otherDir}.`]);
      expect(await control.ask('publish .')).toEqual(['Published 1 file from ..']);

      console.log(`KRPC fuzz: ${DATAGRAMS} datagrams, seed ${SEED}`);
      const stderrBefore = daemon.stderr.length;
      const startedAt = performance.now();
      const flood = await floodKrpc(new KrpcFuzzer(SEED).take(DATAGRAMS), { port: dhtPort });
      const seconds = (performance.now() - startedAt) / 1000;
      console.log(
        `KRPC fuzz: ${flood.sent} datagrams (${flood.bytes} bytes) in ${seconds.toFixed(1)} s, every ping answered (${flood.answered})`,
      );
      expect(flood.sent).toBe(DATAGRAMS);
      expect(daemon.child.exitCode).toBeNull();

      expect(await control.ask('help')).toEqual(HELP_LINES);
      const status = await control.ask('status');
      const counts =
        /^Datagrams: (\d+) received, (\d+) malformed dropped, (\d+) the DHT library failed on$/.exec(
          status[3] ?? '',
        );
      console.log(`KRPC fuzz: ${status[3]}`);
      expect(counts).not.toBeNull();
      const [received, malformed, failed] = (counts as RegExpExecArray).slice(1).map(Number) as [
        number,
        number,
        number,
      ];
      expect(received).toBeGreaterThanOrEqual(DATAGRAMS);
      // About four in five are malformed by construction; the rest are well-formed and handled.
      expect(malformed).toBeGreaterThan(DATAGRAMS * 0.6);
      expect(malformed).toBeLessThan(DATAGRAMS * 0.95);
      expect(failed).toBe(0);
      // The other node, and one entry for the flooding socket whatever ids it forged.
      expect(status[2]).toMatch(/^Routing table: [12] nodes?$/);

      // Its routing table and its store are intact: it finds, and it is found.
      expect(await control.ask('search othernode')).toEqual([
        'othernode found.',
        `127.0.0.1:${other.fileServer.port} othernode.bin`,
      ]);
      expect((await other.run('search attacked')).lines).toEqual([
        'attacked found.',
        `127.0.0.1:${filePort} attacked.bin`,
      ]);

      // --verbose stayed readable: at most 10 lines a second about single datagrams, plus a summary.
      const floodLines = daemon.stderr.slice(stderrBefore).filter((line) => line.startsWith('[dht] dht: '));
      expect(floodLines.length).toBeLessThanOrEqual(
        (Math.ceil(seconds) + 2) * DATAGRAM_LOG_LINES_PER_SECOND + 10,
      );
      expect(
        floodLines.some((line) => /^\[dht\] dht: \d+ more lines about single datagrams/.test(line)),
      ).toBe(true);

      daemon.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
    },
    60_000 + DATAGRAMS,
  );
});
