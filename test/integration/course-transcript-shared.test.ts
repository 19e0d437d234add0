/**
 * The course test of seed 003 (section 7) on three index servers sharing one redis-server
 * (`--store`), each peer at a different server: every peer's terminal shows exactly the course's
 * lines, as with one server, and each server prints exactly the lines of its own peers.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliProcess, killAll, runCli, startServer } from '../helpers/cli.ts';
import { coursePeerTranscripts, playCourse, prepareCourse } from '../helpers/course-run.ts';
import { makeTempDir, removeTempDirs, sha256File } from '../helpers/files.ts';
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
    const original = await prepareCourse(root);

    const servers = await Promise.all([1, 2, 3].map(() => startServer(['--store', redis?.url ?? ''])));
    const peers = servers.map(({ port }) => runCli('peer', ['--server', `127.0.0.1:${port}`], { cwd: root }));
    // Each peer at its own server: peer 2's UPDATE goes through server 2, peer 3 asks server 3.
    const { port1, port2, port3 } = await playCourse(peers as [CliProcess, CliProcess, CliProcess]);

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
    expect(peers.map((peer) => peer.stdout)).toEqual(coursePeerTranscripts({ port1, port2, port3 }));
    for (const peer of peers) expect(peer.stderr).toEqual([]);
    expect(await sha256File(path.join(root, 'peer2', 'aula1.mp4'))).toBe(original);
    expect(await sha256File(path.join(root, 'peer3', 'aula1.mp4'))).toBe(original);
  });
});
