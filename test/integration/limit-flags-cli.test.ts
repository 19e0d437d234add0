/**
 * The limit flags reach the servers of the real entry points: the course peer's file server, the
 * DHT daemon's control socket and file server, and the netcat chat server, each started as a
 * person would, then probed with hostile sockets.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type AttackSocket, connectFrom, endAttack, idleFlood, slowloris } from '../helpers/attackers.ts';
import { killAll, runCli, startServer } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs } from '../helpers/files.ts';

const attacks: AttackSocket[] = [];

afterEach(async () => {
  await endAttack(attacks.splice(0));
  await killAll();
});

afterAll(removeTempDirs);

function rejected(reason: string, message: string): string {
  return `${JSON.stringify({ type: 'DOWNLOAD_REJECTED', reason, message })}\n`;
}

describe('limit flags on the command line', () => {
  it('npm run peer -- --request-timeout 0.3 --max-connections-per-ip 1: its file server applies both', async () => {
    const { port } = await startServer();
    const dir = await makeTempDir();
    const peer = runCli('peer', [
      '--server',
      `127.0.0.1:${port}`,
      '--keep-sharing',
      '--request-timeout',
      '0.3',
      '--max-connections-per-ip',
      '1',
    ]);
    peer.send(`JOIN 127.0.0.1 0 ${dir}`);
    const joined = await peer.waitFor(/^Sou peer 127\.0\.0\.1:\d+ com arquivos/);
    const filePort = Number(/:(\d+)/.exec(joined)?.[1]);
    const [first, second] = await idleFlood({ port: filePort }, 2);
    attacks.push(first as AttackSocket, second as AttackSocket);
    await second?.waitClosed(10_000, 'the second connection of the address to be refused');
    expect(second?.text).toBe(
      rejected(
        'BUSY',
        'Your address 127.0.0.66 already has 1 connections open here; close one and try again.',
      ),
    );
    await first?.waitClosed(10_000, 'the idle connection to time out');
    expect(first?.text).toBe(rejected('TIMEOUT', 'No request for 0.3 s; the connection is closed.'));
  });

  it('npm run peer -- dht --control-max-clients-per-ip 1 --control-line-timeout 0.3: its control socket applies both', async () => {
    const downloads = await makeTempDir();
    const daemon = runCli('peer', [
      'dht',
      '--dir',
      downloads,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--dht-port',
      '0',
      '--control',
      '0',
      '--control-max-clients-per-ip',
      '1',
      '--control-line-timeout',
      '0.3',
    ]);
    const started = await daemon.waitFor(/control tcp 127\.0\.0\.1:\d+/, 'stderr');
    const control = Number(/control tcp 127\.0\.0\.1:(\d+)/.exec(started)?.[1]);
    const trickle = await slowloris({ port: control }, 1, { tickMs: 40, prefix: 'search ' });
    attacks.push(...trickle.sockets);
    const refused = await connectFrom(control, '127.0.0.66');
    attacks.push(refused);
    await refused.waitClosed(10_000, 'the second control client of the address to be refused');
    expect(refused.text).toBe(
      'Connection closed: already 1 control clients from your address; try again later.\n\n',
    );
    try {
      await trickle.sockets[0]?.waitClosed(10_000, 'the unfinished command to be cut');
    } finally {
      trickle.stop();
    }
    expect(trickle.sockets[0]?.text).toBe('Connection closed: a line was left unfinished for 0.3 s.\n\n');
  });

  it('npm run server -- chat --max-clients-per-ip 1 --idle-timeout 0.3: the chat server applies both', async () => {
    const chat = runCli('server', [
      'chat',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--max-clients-per-ip',
      '1',
      '--idle-timeout',
      '0.3',
    ]);
    const line = await chat.waitFor(/^chat server listening on 127\.0\.0\.1:\d+$/, 'stderr');
    const port = Number(line.split(':').at(-1));
    const [first, second] = await idleFlood({ port }, 2);
    attacks.push(first as AttackSocket, second as AttackSocket);
    await second?.waitClosed(10_000, 'the second client of the address to be refused');
    expect(second?.text).toBe('Too many clients from your address (1); try again later.\n');
    await first?.waitClosed(10_000, 'the silent client to be disconnected');
    expect(first?.text).toBe('Nothing sent for 0.3 s; disconnected.\n');
  });

  it('refuses a bad limit value with one sentence naming the flag', async () => {
    const server = runCli('server', ['--port', '0', '--max-pending-input', 'lots']);
    expect(await server.exited).toBe(1);
    expect(server.stderr).toEqual([
      'napshare server: --max-pending-input needs a size such as 100KiB or 64MiB, not "lots".',
    ]);
    const peer = runCli('peer', ['--stall-timeout', 'soon']);
    expect(await peer.exited).toBe(1);
    expect(peer.stderr).toEqual([
      'napshare peer: --stall-timeout needs a duration such as 30 (seconds), 500ms, 10m or 0 (never), not "soon".',
    ]);
  });
});
