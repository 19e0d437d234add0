/**
 * `npm run demo` — the course scenario of seed 003 on this machine, for a newcomer: a server and
 * three peers (real CLI processes, free ports, temporary folders), a 1.1 GB random sample in the
 * first peer's folder, then JOIN x3, a SEARCH for a missing file, a SEARCH for the sample and a
 * DOWNLOAD. Shows each terminal's transcript, the transfer's time and speed, and the SHA-256 of
 * both copies. Removes everything it made.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { formatBytes, formatRate } from '../shared/units.ts';
// The same process driver the integration tests use: the demo runs exactly what they check.
import { type CliProcess, killAll, runCli, startServer } from '../test/helpers/cli.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../test/helpers/files.ts';

const SAMPLE_BYTES = Math.round(1.1e9);

function heading(text: string): void {
  process.stdout.write(`\n== ${text}\n`);
}

function transcript(name: string, cli: CliProcess): void {
  heading(`terminal: ${name}`);
  for (const line of cli.stdout) process.stdout.write(`  ${line}\n`);
  for (const line of cli.stderr.filter((l) => !l.startsWith('[')))
    process.stdout.write(`  (stderr) ${line}\n`);
}

async function main(): Promise<void> {
  const root = await makeTempDir('napshare-demo-');
  for (const dir of ['peer1', 'peer2', 'peer3']) await fs.mkdir(path.join(root, dir));
  heading(`preparing a ${formatBytes(SAMPLE_BYTES)} random sample in ${path.join(root, 'peer1')}`);
  const original = await writeRandomFile(path.join(root, 'peer1', 'aula1.mp4'), SAMPLE_BYTES);

  const { server, port } = await startServer();
  const serverArg = ['--server', `127.0.0.1:${port}`];
  const peers = [1, 2, 3].map(() => runCli('peer', serverArg, { cwd: root }));
  const [peer1, peer2, peer3] = peers as [CliProcess, CliProcess, CliProcess];
  const addressOf = async (peer: CliProcess) =>
    /127\.0\.0\.1:\d+/.exec(await peer.waitFor('Sou peer'))?.[0] ?? '';

  heading(`server on 127.0.0.1:${port}; three peers JOIN (free ports)`);
  peer1.send('JOIN 127.0.0.1 0 peer1');
  const address1 = await addressOf(peer1);
  peer2.send('JOIN 127.0.0.1 0 peer2');
  await addressOf(peer2);
  peer3.send('JOIN 127.0.0.1 0 peer3');
  await addressOf(peer3);

  heading('peer 2: SEARCH a missing file, SEARCH the sample, DOWNLOAD it from peer 1');
  peer2.send('SEARCH naoexiste.mp4');
  await peer2.waitFor(/^peers com arquivo solicitado:$/);
  peer2.send('SEARCH aula1.mp4');
  await peer2.waitFor(`peers com arquivo solicitado: ${address1}`);
  const started = performance.now();
  peer2.send(`DOWNLOAD ${address1.replace(':', ' ')}`);
  await peer2.waitFor('Arquivo aula1.mp4 baixado');
  const seconds = (performance.now() - started) / 1000;

  await Promise.all(peers.map((peer) => peer.end()));
  server.kill('SIGINT');
  await server.exited;
  transcript('server', server);
  transcript('peer 1', peer1);
  transcript('peer 2', peer2);
  transcript('peer 3', peer3);

  heading('transfer');
  process.stdout.write(
    `  ${formatBytes(SAMPLE_BYTES)} in ${seconds.toFixed(2)} s: ${formatRate(SAMPLE_BYTES / seconds)}\n`,
  );
  const copy = await sha256File(path.join(root, 'peer2', 'aula1.mp4'));
  process.stdout.write(`  SHA-256 original ${original}\n  SHA-256 copy     ${copy}\n`);
  process.stdout.write(
    copy === original
      ? '  identical: the copy is byte for byte the original.\n'
      : '  MISMATCH: the copy differs!\n',
  );
  process.exitCode = copy === original ? 0 : 1;
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await killAll();
    await removeTempDirs();
  });
