/**
 * The course test of seed 003 (section 7) on three index servers sharing one redis-server
 * (`--store`), each peer at a different server: every peer's terminal shows exactly the course's
 * lines, as with one server, and each server prints exactly the lines of its own peers.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, runCli, startServer } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { RedisServer } from '../helpers/redis-server.ts';
import { redisMissing } from '../helpers/stores.ts';

let redis: RedisServer | undefined;
afterAll(async () => {
  await killAll();
  await redis?.stop();
  await removeTempDirs();
});

describe.skipIf(redisMissing !== undefined)('course test on three servers sharing one Redis', () => {
  it('prints the course lines on every peer, each server its own, and moves the file intact', async () => {
    redis = await RedisServer.start();
    const root = await makeTempDir();
    for (const dir of ['peer1', 'peer2', 'peer3']) await fs.mkdir(path.join(root, dir));
    const original = await writeRandomFile(path.join(root, 'peer1', 'aula1.mp4'), 3 * 1024 * 1024 + 17);
    await writeRandomFile(path.join(root, 'peer1', 'aula2.mp4'), 1000);
    await writeRandomFile(path.join(root, 'peer3', 'aula3.mp4'), 10);

    const servers = await Promise.all([1, 2, 3].map(() => startServer(['--store', redis?.url ?? ''])));
    const peers = servers.map(({ port }) => runCli('peer', ['--server', `127.0.0.1:${port}`], { cwd: root }));
    const [p1, p2, p3] = peers as [(typeof peers)[0], (typeof peers)[0], (typeof peers)[0]];
    const portOf = (line: string) => Number(/127\.0\.0\.1:(\d+)/.exec(line)?.[1]);

    p1.send(`JOIN 127.0.0.1 0 peer1${path.sep}`);
    const port1 = portOf(await p1.waitFor('Sou peer'));
    p2.send(`JOIN 127.0.0.1 0 peer2${path.sep}`);
    const port2 = portOf(await p2.waitFor('Sou peer'));
    p3.send('JOIN 127.0.0.1 0 peer3');
    const port3 = portOf(await p3.waitFor('Sou peer'));

    p2.send('SEARCH naoexiste.mp4');
    await p2.waitFor('peers com arquivo solicitado:');
    p2.send('SEARCH aula1.mp4');
    await p2.waitFor(`peers com arquivo solicitado: 127.0.0.1:${port1}`);
    p2.send(`DOWNLOAD 127.0.0.1 ${port1}`);
    await p2.waitFor('Arquivo aula1.mp4');
    // Peer 2's UPDATE went through server 2; peer 3 asks server 3.
    p3.send('SEARCH aula1.mp4');
    await p3.waitFor('peers com arquivo solicitado:');
    p3.send(`DOWNLOAD 127.0.0.1 ${port2}`);
    await p3.waitFor('Arquivo aula1.mp4');

    expect(await Promise.all(peers.map((peer) => peer.end()))).toEqual([0, 0, 0]);
    for (const { server } of servers) server.kill('SIGINT');
    expect(await Promise.all(servers.map(({ server }) => server.exited))).toEqual([0, 0, 0]);

    const [s1, s2, s3] = servers.map(({ server }) => server.stdout);
    expect(s1).toEqual([`Peer 127.0.0.1:${port1} adicionado com arquivos aula1.mp4 aula2.mp4`]);
    expect(s2).toEqual([
      `Peer 127.0.0.1:${port2} adicionado com arquivos`,
      `Peer 127.0.0.1:${port2} solicitou arquivo naoexiste.mp4`,
      `Peer 127.0.0.1:${port2} solicitou arquivo aula1.mp4`,
    ]);
    expect(s3).toEqual([
      `Peer 127.0.0.1:${port3} adicionado com arquivos aula3.mp4`,
      `Peer 127.0.0.1:${port3} solicitou arquivo aula1.mp4`,
    ]);
    expect(p1.stdout).toEqual([`Sou peer 127.0.0.1:${port1} com arquivos aula1.mp4 aula2.mp4`]);
    expect(p2.stdout).toEqual([
      `Sou peer 127.0.0.1:${port2} com arquivos`,
      'peers com arquivo solicitado:',
      `peers com arquivo solicitado: 127.0.0.1:${port1}`,
      `Arquivo aula1.mp4 baixado com sucesso na pasta peer2${path.sep}`,
    ]);
    expect(p3.stdout).toEqual([
      `Sou peer 127.0.0.1:${port3} com arquivos aula3.mp4`,
      `peers com arquivo solicitado: 127.0.0.1:${port1} 127.0.0.1:${port2}`,
      'Arquivo aula1.mp4 baixado com sucesso na pasta peer3',
    ]);
    for (const peer of peers) expect(peer.stderr).toEqual([]);
    expect(await sha256File(path.join(root, 'peer2', 'aula1.mp4'))).toBe(original);
    expect(await sha256File(path.join(root, 'peer3', 'aula1.mp4'))).toBe(original);
  });
});
