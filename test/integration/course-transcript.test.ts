/**
 * The course test of seed 003 (section 7): one server and three peers, each a real CLI process
 * driven by line commands, and the exact console transcript of each terminal.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliProcess, killAll, runCli, startServer } from '../helpers/cli.ts';
import { coursePeerTranscripts, playCourse, prepareCourse } from '../helpers/course-run.ts';
import { makeTempDir, removeTempDirs, sha256File } from '../helpers/files.ts';

afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('course test: server + 3 peers in line-command mode', () => {
  it('prints exactly the lines of seed 003 on every terminal and moves the file intact', async () => {
    const root = await makeTempDir();
    const original = await prepareCourse(root);

    const { server, port } = await startServer();
    const serverArg = ['--server', `127.0.0.1:${port}`];
    const peers = [1, 2, 3].map(() => runCli('peer', serverArg, { cwd: root }));
    const { port1, port2, port3 } = await playCourse(peers as [CliProcess, CliProcess, CliProcess]);

    expect(await Promise.all(peers.map((peer) => peer.end()))).toEqual([0, 0, 0]);
    server.kill('SIGINT');
    expect(await server.exited).toBe(0);

    expect(server.stdout).toEqual([
      `Peer 127.0.0.1:${port1} adicionado com arquivos aula1.mp4 aula2.mp4`,
      `Peer 127.0.0.1:${port2} adicionado com arquivos`,
      `Peer 127.0.0.1:${port3} adicionado com arquivos aula3.mp4`,
      `Peer 127.0.0.1:${port2} solicitou arquivo naoexiste.mp4`,
      `Peer 127.0.0.1:${port2} solicitou arquivo aula1.mp4`,
      `Peer 127.0.0.1:${port3} solicitou arquivo aula1.mp4`,
    ]);
    expect(peers.map((peer) => peer.stdout)).toEqual(coursePeerTranscripts({ port1, port2, port3 }));
    for (const peer of peers) expect(peer.stderr).toEqual([]);
    expect(await sha256File(path.join(root, 'peer2', 'aula1.mp4'))).toBe(original);
    expect(await sha256File(path.join(root, 'peer3', 'aula1.mp4'))).toBe(original);
    expect(await fs.readdir(path.join(root, 'peer3'))).toEqual(['aula1.mp4', 'aula3.mp4']);
  });

  it('reports each failed command on stderr, prints nothing for it on stdout, and exits 1', async () => {
    const root = await makeTempDir();
    await fs.mkdir(path.join(root, 'mine'));
    const { server, port } = await startServer();
    const peer = runCli('peer', ['--server', `127.0.0.1:${port}`], { cwd: root });
    peer.send('SEARCH before-join.mp4');
    peer.send('JOIN 127.0.0.1 0 missing-folder');
    peer.send('JOIN 127.0.0.1 0 mine');
    peer.send('DOWNLOAD 127.0.0.1 9');
    peer.send('SEARCH ../etc/passwd');
    peer.send('FROB');
    expect(await peer.end()).toBe(1);
    expect(peer.stdout).toEqual([expect.stringMatching(/^Sou peer 127\.0\.0\.1:\d+ com arquivos$/)]);
    expect(peer.stderr).toEqual([
      expect.stringMatching(/JOIN first/),
      'The folder missing-folder does not exist or is not a folder.',
      expect.stringMatching(/SEARCH a file first/),
      expect.stringMatching(/Unsafe file name/),
      expect.stringMatching(/Unknown command "FROB"/),
    ]);
    server.kill('SIGINT');
    await server.exited;
    // A refused SEARCH prints nothing on the server either.
    expect(server.stdout).toEqual([expect.stringMatching(/^Peer 127\.0\.0\.1:\d+ adicionado com arquivos$/)]);
  });

  it('the server exits 1 with one clear line when its port is taken', async () => {
    const { server, port } = await startServer();
    const second = runCli('server', ['--host', '127.0.0.1', '--port', String(port)]);
    expect(await second.exited).toBe(1);
    expect(second.stdout).toEqual([]);
    expect(second.stderr).toEqual([
      `napshare server: Port ${port} on 127.0.0.1 is already in use; choose another port.`,
    ]);
    server.kill('SIGINT');
    await server.exited;
  });
});
