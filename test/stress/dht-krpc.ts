/**
 * Random and mutated KRPC datagrams (test/helpers/krpc-fuzz.ts, paced by krpc-flood.ts so the
 * daemon reads every one) against the real DHT daemon process. Afterwards it is running, answers
 * `help` on its control socket, finds a file another node published and is found by it, and its
 * memory is back under its budget.
 */
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { HELP_LINES } from '../../peer/dht/control-commands.ts';
import { DhtDaemon } from '../../peer/dht/daemon.ts';
import { makeTempDir, writeRandomFile } from '../helpers/files.ts';
import { floodKrpc } from '../helpers/krpc-flood.ts';
import { KrpcFuzzer } from '../helpers/krpc-fuzz.ts';
import { withDeadline } from '../helpers/wait.ts';
import { ControlClient } from '../integration/dht-helpers.ts';
import type { StressContext } from './context.ts';
import { memoryMiB } from './processes.ts';
import { count } from './report.ts';

/** A control answer or a DHT search takes well under this on a busy machine. */
const ANSWER_TIMEOUT_MS = 30_000;
/**
 * Resident memory the daemon may keep: a Node process (about 120 MiB with the DHT library) and
 * its bounded tables (routing table, store of announced peers, pending keys: each capped).
 */
export const DHT_MEMORY_BUDGET_MIB = 300;

export const DAEMON_STARTED =
  /^dht daemon: dht udp 127\.0\.0\.1:(\d+), file server tcp 127\.0\.0\.1:(\d+), control tcp 127\.0\.0\.1:(\d+)/;

export async function dhtKrpc(ctx: StressContext): Promise<void> {
  const datagrams = ctx.profile.krpcDatagrams;
  const row = ctx.row(`DHT daemon: ${count(datagrams)} random and mutated KRPC datagrams`);
  const attackedDir = await makeTempDir('napshare-stress-');
  await writeRandomFile(path.join(attackedDir, 'attacked.bin'), 3000);
  const daemon = ctx.cli(
    'peer',
    [
      'dht',
      '--dir',
      await makeTempDir('napshare-stress-'),
      '--port',
      '0',
      '--dht-port',
      '0',
      '--control',
      '0',
    ],
    'the DHT daemon',
    { cwd: attackedDir },
  );
  const [, dhtPort, filePort, controlPort] = (
    DAEMON_STARTED.exec(await daemon.waitFor(DAEMON_STARTED, 'stderr')) ?? []
  ).map(Number) as [number, number, number, number];
  const control = await ControlClient.connect(controlPort);
  ctx.defer(() => control.close());
  const ask = (line: string) => withDeadline(control.ask(line), ANSWER_TIMEOUT_MS, `the answer to "${line}"`);

  // Another node joins through the attacked one and publishes; the attacked one publishes too.
  const other = await DhtDaemon.start({
    dir: await makeTempDir('napshare-stress-'),
    host: '127.0.0.1',
    port: 0,
    dhtPort: 0,
    controlPort: null,
    bootstrap: { kind: 'nodes', nodes: [{ host: '127.0.0.1', port: dhtPort }] },
  });
  ctx.defer(() => other.close());
  await withDeadline(other.node.ready, ANSWER_TIMEOUT_MS, 'the second DHT node to bootstrap');
  const otherDir = await makeTempDir('napshare-stress-');
  await writeRandomFile(path.join(otherDir, 'othernode.bin'), 3000);
  await withDeadline(other.run(`publish ${otherDir}`), ANSWER_TIMEOUT_MS, 'the second node to publish');
  row.check(
    isDeepStrictEqual(await ask('publish .'), ['Published 1 file from ..']),
    () => 'publish . failed',
  );
  const before = await memoryMiB(daemon.pid);

  const started = performance.now();
  const flood = await withDeadline(
    floodKrpc(new KrpcFuzzer(ctx.seed).take(datagrams), { port: dhtPort }),
    ctx.profile.groupTimeoutMs,
    `${count(datagrams)} KRPC datagrams to be read`,
  );
  const seconds = (performance.now() - started) / 1000;
  row.tries = flood.sent;

  const help = await ask('help');
  row.check(isDeepStrictEqual(help, HELP_LINES), () => `help answered ${JSON.stringify(help)}`);
  const status = await ask('status');
  const counts = /^Datagrams: (\d+) received, (\d+) malformed dropped, (\d+) the DHT library failed on$/.exec(
    status[3] ?? '',
  );
  row.check(counts !== null, () => `status answered ${JSON.stringify(status)}`);
  const found = await ask('search othernode');
  row.check(
    isDeepStrictEqual(found, ['othernode found.', `127.0.0.1:${other.fileServer.port} othernode.bin`]),
    () => `search othernode answered ${JSON.stringify(found)}`,
  );
  const foundBack = (
    await withDeadline(other.run('search attacked'), ANSWER_TIMEOUT_MS, 'the other node to search')
  ).lines;
  row.check(
    isDeepStrictEqual(foundBack, ['attacked found.', `127.0.0.1:${filePort} attacked.bin`]),
    () => `the other node's search answered ${JSON.stringify(foundBack)}`,
  );
  const after = await memoryMiB(daemon.pid);
  row.check(
    after.rss < DHT_MEMORY_BUDGET_MIB,
    () => `the daemon holds ${after.rss.toFixed(0)} MiB after the flood`,
  );
  if (daemon.alive && row.clean) row.survived = flood.sent;

  const [received, malformed, failed] = (counts ?? []).slice(1).map(Number);
  row.note(
    `${count(flood.sent)} datagrams (${count(flood.bytes)} bytes) in ${seconds.toFixed(0)} s, every ping answered`,
  );
  row.note(
    `${count(received ?? 0)} received, ${count(malformed ?? 0)} malformed dropped, ${failed} the library failed on`,
  );
  row.note(
    `RSS ${before.rss.toFixed(0)} -> peak ${after.peak.toFixed(0)} -> ${after.rss.toFixed(0)} MiB (budget ${DHT_MEMORY_BUDGET_MIB})`,
  );
  await daemon.stop();
}
