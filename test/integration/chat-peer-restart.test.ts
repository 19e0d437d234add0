/**
 * The index server restarts on the same port: every peer — three chat peers and a course peer —
 * reconnects with backoff and joins again by itself, saying so on stderr only (the course
 * transcript keeps its single `Sou peer` line), after which SEARCH finds all their files again.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, runCli, startServer } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, writeRandomFile } from '../helpers/files.ts';
import { LineClient } from '../helpers/line-client.ts';

afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

const REJOINED = /^Reconnected to the index server at 127\.0\.0\.1:\d+; joined again/;

describe('index server restart', () => {
  it('every peer re-joins by itself and SEARCH finds all their files again', async () => {
    const dirs = await Promise.all([1, 2, 3, 4].map(() => makeTempDir()));
    const names = ['ana.bin', 'bob.bin', 'cris.bin', 'course.bin'];
    await Promise.all(dirs.map((dir, i) => writeRandomFile(path.join(dir, names[i] as string), 1000 + i)));

    // First server on a free port; the second one must take that same port.
    const first = await startServer();
    const port = first.port;
    const serverArg = `127.0.0.1:${port}`;
    const chats = ['ana', 'bob', 'cris'].map((alias, i) =>
      runCli('peer', [
        'chat',
        '--alias',
        alias,
        '--dir',
        dirs[i] as string,
        '--port',
        '0',
        '--server',
        serverArg,
      ]),
    );
    const addresses = await Promise.all(
      chats.map(
        async (chat) => /at (127\.0\.0\.1:\d+)\.$/.exec(await chat.waitFor(/^Joined/, 'stderr'))?.[1],
      ),
    );
    const course = runCli('peer', ['--server', serverArg]);
    course.send(`JOIN 127.0.0.1 0 ${dirs[3]}`);
    const courseAddress = /(127\.0\.0\.1:\d+)/.exec(await course.waitFor('Sou peer'))?.[1];

    first.server.kill('SIGKILL');
    await first.server.exited;
    await Promise.all([...chats, course].map((peer) => peer.waitFor(/^Lost the index server/, 'stderr')));
    const second = runCli('server', ['--host', '127.0.0.1', '--port', String(port), '--verbose']);
    await second.waitFor(`listening on 127.0.0.1:${port}`, 'stderr');
    await Promise.all([...chats, course].map((peer) => peer.waitFor(REJOINED, 'stderr')));

    // SEARCH on the new server finds every peer's file at its address.
    const probe = await LineClient.connect(port);
    try {
      await probe.request({ type: 'JOIN', ip: '127.0.0.1', port: 9, files: [] });
      const owners = [...(addresses as string[]), courseAddress as string];
      for (const [i, name] of names.entries()) {
        // Each re-join announced the peer's capabilities again (napshare peers answer INFO).
        expect(await probe.request({ type: 'SEARCH', file: name })).toEqual({
          type: 'SEARCH_OK',
          peers: [owners[i]],
          caps: { [owners[i] as string]: ['INFO'] },
        });
      }
    } finally {
      probe.close();
    }

    // The course peer keeps working, and its stdout still has its one JOIN line.
    course.send('SEARCH ana.bin');
    await course.waitFor(`peers com arquivo solicitado: ${addresses[0]}`);
    expect(course.stdout).toEqual([
      expect.stringMatching(/^Sou peer 127\.0\.0\.1:\d+ com arquivos course\.bin$/),
      `peers com arquivo solicitado: ${addresses[0]}`,
    ]);
    // The chat goes on through the new server, aliases intact.
    const [ana, bob, cris] = chats as [(typeof chats)[0], (typeof chats)[0], (typeof chats)[0]];
    ana.send('back again');
    await bob.waitFor(/^ana: back again$/);
    await cris.waitFor(/^ana: back again$/);
    expect(second.stdout.filter((line) => line.includes('adicionado'))).toHaveLength(5);
  });
});
