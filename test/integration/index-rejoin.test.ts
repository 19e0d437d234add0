/**
 * A peer that loses its index entry is told and joins again by itself: a server that answers
 * NOT_JOINED on a live connection, and a real server that drops a peer for not answering a PROBE.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexClient } from '../../peer/index-client.ts';
import { IndexServer } from '../../server/index-server.ts';
import { killAll, runCli } from '../helpers/cli.ts';
import { LineClient } from '../helpers/line-client.ts';
import { line, ScriptedServer } from '../helpers/scripted-server.ts';
import { waitSince, waitUntil } from '../helpers/wait.ts';

const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  await killAll();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A TCP proxy to `port` whose open connections can be frozen: what their clients send is held
 * (a machine that vanished), what the server sends still arrives. New connections are not frozen.
 */
async function freezableProxy(port: number) {
  const open = new Set<{ frozen: boolean }>();
  const proxy = net.createServer((client) => {
    const state = { frozen: false };
    open.add(state);
    const upstream = net.connect({ host: '127.0.0.1', port });
    client.on('data', (chunk) => {
      if (!state.frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      open.delete(state);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('close', end);
      socket.on('error', end);
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as net.AddressInfo).port,
    freeze: () => {
      for (const state of open) state.frozen = true;
    },
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}

/** The server's PROBE timeout here: short for the test, long enough for a busy runner. */
const PROBE_MS = 300;

async function startIndex(): Promise<IndexServer> {
  const server = await IndexServer.start({
    host: '127.0.0.1',
    port: 0,
    print: () => {},
    probeTimeoutMs: PROBE_MS,
  });
  cleanups.push(() => server.close());
  return server;
}

describe('a peer that loses its entry joins again by itself', () => {
  it('a NOT_JOINED on a live connection: the course peer JOINs again, says so, and its SEARCH goes on', async () => {
    let searches = 0;
    const forgetful = await ScriptedServer.start((message) => {
      if (message.type === 'PING') return line({ type: 'PONG' });
      if (message.type === 'JOIN') return line({ type: 'JOIN_OK' });
      if (message.type === 'SEARCH' && searches++ === 0)
        return line({
          type: 'ERROR',
          code: 'NOT_JOINED',
          message: 'JOIN first: this connection has not joined the index.',
        });
      return line({ type: 'SEARCH_OK', peers: ['127.0.0.1:8776'] });
    });
    cleanups.push(() => forgetful.close());
    const dir = await mkdtemp(path.join(os.tmpdir(), 'napshare-rejoin-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'aula1.mp4'), 'x');

    const peer = runCli('peer', ['--server', `127.0.0.1:${forgetful.port}`]);
    peer.send(`JOIN 127.0.0.1 0 ${dir}`);
    peer.send('SEARCH aula1.mp4');
    expect(await peer.end()).toBe(0);

    const joins = forgetful.received.filter((r) => r.message.type === 'JOIN');
    expect(joins).toHaveLength(2);
    expect(joins[1]?.message).toEqual(joins[0]?.message);
    expect(forgetful.types.filter((type) => type !== 'PING')).toEqual(['JOIN', 'SEARCH', 'JOIN', 'SEARCH']);
    const port = Number(joins[0]?.message.port);
    // The transcript keeps its one `Sou peer` line; the re-join is told on stderr.
    expect(peer.bytes('stdout').toString()).toBe(
      `Sou peer 127.0.0.1:${port} com arquivos aula1.mp4\npeers com arquivo solicitado: 127.0.0.1:8776\n`,
    );
    expect(peer.bytes('stderr').toString()).toBe(
      `The index server at 127.0.0.1:${forgetful.port} had lost this peer's entry; joined again with 127.0.0.1:${port} (1 file).\n`,
    );
  });

  it('a napshare peer answers a PROBE by itself and keeps its address', async () => {
    const server = await startIndex();
    const victim = await IndexClient.connect('127.0.0.1', server.address().port);
    cleanups.push(() => victim.close());
    await victim.join('127.0.0.1', 18910, ['mine.mp4']);
    const joinedAt = performance.now();
    await waitSince(joinedAt, PROBE_MS, 'the victim last spoke');
    const attacker = await LineClient.connect(server.address().port);
    cleanups.push(() => attacker.close());
    expect(
      await attacker.request({ type: 'JOIN', ip: '127.0.0.1', port: 18910, files: ['evil.mp4'] }),
    ).toMatchObject({
      code: 'ADDRESS_IN_USE',
    });
    expect(await victim.search('mine.mp4')).toEqual(['127.0.0.1:18910']);
    expect(victim.connected).toBe(true);
  });

  it('dropped for not answering a PROBE: told by the close, refused while its address is held, back once free', async () => {
    const server = await startIndex();
    const proxy = await freezableProxy(server.address().port);
    cleanups.push(() => proxy.close());
    const notices: string[] = [];
    const victim = await IndexClient.connect('127.0.0.1', proxy.port, {
      notice: (message) => notices.push(message),
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
    });
    cleanups.push(() => victim.close());
    const rejoined = new Promise((resolve) => victim.once('rejoined', resolve));
    // Its PING went first, so it has opted in to heartbeats (and PROBEs) once JOIN_OK is back.
    await victim.join('127.0.0.1', 18900, ['mine.mp4']);
    const joinedAt = performance.now();

    proxy.freeze();
    await waitSince(joinedAt, PROBE_MS, 'the victim last spoke');
    const newcomer = await LineClient.connect(server.address().port);
    cleanups.push(() => newcomer.close());
    expect(
      await newcomer.request({ type: 'JOIN', ip: '127.0.0.1', port: 18900, files: ['other.mp4'] }),
    ).toEqual({
      type: 'JOIN_OK',
    });

    const refusal = `The index server refused JOIN: Another peer is joined as 127.0.0.1:18900 and still connected; JOIN with another port. Trying again.`;
    await waitUntil(() => notices.includes(refusal), 'the victim to be refused its address while it is held');
    newcomer.close();
    await rejoined;
    expect(await victim.search('mine.mp4')).toEqual(['127.0.0.1:18900']);
    expect(await victim.search('other.mp4')).toEqual([]);
    expect(notices).toEqual([
      `Lost the index server at 127.0.0.1:${proxy.port}; reconnecting.`,
      refusal,
      `Reconnected to the index server at 127.0.0.1:${proxy.port}; joined again with 127.0.0.1:18900 (1 file).`,
    ]);
  });
});
