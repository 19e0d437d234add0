/**
 * The peer's IndexClient against a real index server: pushed messages are events, not replies;
 * heartbeats keep a quiet peer in; a restarted server gets the peer back by itself (reconnect
 * with backoff, JOIN again with the alias and files as they are now).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IndexClient, type IndexClientOptions } from '../../peer/index-client.ts';
import { IndexServer, type IndexServerOptions } from '../../server/index-server.ts';
import { isNapError } from '../../shared/errors.ts';
import type { IndexPush } from '../../shared/index-protocol.ts';
import { LineClient } from '../helpers/line-client.ts';
import { withDeadline } from '../helpers/wait.ts';
import { RecordingRelay } from './lan-group.ts';

const servers: IndexServer[] = [];
const clients: IndexClient[] = [];
const closers: (() => unknown)[] = [];

async function startServer(options: Partial<IndexServerOptions> = {}): Promise<IndexServer> {
  const server = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {}, ...options });
  servers.push(server);
  return server;
}

async function connect(
  server: IndexServer,
  options: IndexClientOptions = {},
  port = server.address().port,
): Promise<IndexClient> {
  const client = await IndexClient.connect('127.0.0.1', port, {
    reconnectMinMs: 20,
    reconnectMaxMs: 200,
    ...options,
  });
  clients.push(client);
  return client;
}

function next<T extends unknown[]>(client: IndexClient, event: 'push' | 'rejoined' | 'lost'): Promise<T> {
  return withDeadline(
    new Promise((resolve) => client.once(event, (...args: unknown[]) => resolve(args as T))),
    10_000,
    `the client's next ${event} event`,
  );
}

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('IndexClient (discovery)', () => {
  it('emits pushed CHAT and PEER_LEFT as events; replies still match their requests', async () => {
    const server = await startServer();
    const tina = await connect(server);
    const bob = await connect(server);
    await tina.join('127.0.0.1', 8776, ['a.mp4'], 'tina');
    await bob.join('127.0.0.1', 8777, [], 'bob');
    const pushes: IndexPush[] = [];
    tina.on('push', (push) => pushes.push(push));
    expect(await bob.chat('hello tina')).toBe(1);
    // The push reaches tina's socket before the LIST reply: it must not be taken for it.
    expect(await tina.list()).toEqual([
      { address: '127.0.0.1:8776', fileCount: 1, alias: 'tina' },
      { address: '127.0.0.1:8777', fileCount: 0, alias: 'bob' },
    ]);
    expect(pushes).toEqual([{ type: 'CHAT', alias: 'bob', from: '127.0.0.1:8777', text: 'hello tina' }]);
    await bob.setAlias('bobby');
    expect(await tina.query('a.mp4')).toEqual([{ address: '127.0.0.1:8776', alias: 'tina' }]);
    await bob.leave();
    expect(await tina.search('a.mp4')).toEqual(['127.0.0.1:8776']);
    expect(pushes[1]).toEqual({
      type: 'PEER_LEFT',
      address: '127.0.0.1:8777',
      alias: 'bobby',
      reason: 'left',
    });
  });

  it('heartbeats keep a quiet peer joined past the server timeout, while a peer that fell silent is dropped', async () => {
    // 1.5 s: the client beats every 0.5 s, so a loaded machine may stall it a whole second.
    const timeoutMs = 1500;
    const server = await startServer({ heartbeatTimeoutMs: timeoutMs });
    // Every byte the client sends crosses this relay: the test sees the PINGs themselves.
    const relay = await RecordingRelay.start(server.address().port);
    closers.push(() => relay.close());
    const quiet = await connect(server, {}, relay.port);
    // The client PINGs as it connects; the JOIN's reply comes after the PONG: it has opted in.
    await quiet.join('127.0.0.1', 8776, ['a'], 'quiet');
    let onLost = (_error: Error) => {};
    const lost = new Promise<never>((_, reject) => {
      onLost = (error) => reject(new Error(`the quiet peer was dropped: ${error.message}`));
    });
    quiet.once('lost', onLost);
    // A peer that opts in after the quiet one, then says nothing: the server's clock for it starts
    // later, so if the quiet peer stopped beating it would be dropped first.
    const ghost = await LineClient.connect(server.address().port);
    closers.push(() => ghost.close());
    await ghost.request({ type: 'JOIN', ip: '127.0.0.1', port: 8777, files: [], alias: 'ghost' });
    const pinged = performance.now();
    expect(await ghost.request({ type: 'PING' })).toEqual({ type: 'PONG', timeoutMs });
    const ghostLeft = withDeadline(
      new Promise<IndexPush>((resolve) =>
        quiet.on('push', (push) => push.type === 'PEER_LEFT' && push.alias === 'ghost' && resolve(push)),
      ),
      10 * timeoutMs,
      'the ghost to be announced gone',
    );
    expect(await Promise.race([ghostLeft, lost])).toMatchObject({ type: 'PEER_LEFT', reason: 'timeout' });
    quiet.off('lost', onLost);
    expect(performance.now() - pinged).toBeGreaterThanOrEqual(timeoutMs);
    expect(quiet.connected).toBe(true);
    expect((await server.registry.snapshot()).map((entry) => entry.alias)).toEqual(['quiet']);
    // What kept it: PINGs on the wire, more than the one it sent when connecting.
    const sent = Buffer.concat(relay.fromClients).toString().split('\n');
    expect(sent.filter((line) => line === '{"type":"PING"}').length).toBeGreaterThanOrEqual(2);
  });

  it('re-joins a restarted server by itself, with its alias and files as they are now', async () => {
    const first = await startServer();
    const port = first.address().port;
    const notices: string[] = [];
    const client = await connect(first, { notice: (message) => notices.push(message) });
    await client.join('127.0.0.1', 8776, ['a.mp4'], 'tina');
    await client.update('b.mp4');
    await client.setAlias('tina2');
    const lost = next(client, 'lost');
    await first.close();
    await lost;
    // While reconnecting: questions fail at once; what the peer holds is carried by the re-join.
    await expect(client.search('a.mp4')).rejects.toSatisfy((error) => isNapError(error, 'CONNECTION_CLOSED'));
    await client.update('c.mp4');
    const rejoined = next(client, 'rejoined');
    const second = await startServer({ port });
    await rejoined;
    expect(await client.search('c.mp4')).toEqual(['127.0.0.1:8776']);
    expect(await second.registry.snapshot()).toMatchObject([
      { address: '127.0.0.1:8776', alias: 'tina2', files: ['a.mp4', 'b.mp4', 'c.mp4'] },
    ]);
    expect(notices).toEqual([
      `Lost the index server at 127.0.0.1:${port}; reconnecting.`,
      `Reconnected to the index server at 127.0.0.1:${port}; joined again as tina2 with 127.0.0.1:8776 (3 files).`,
    ]);
  });

  it('keeps retrying while the server is full, and gets in once there is room', async () => {
    const first = await startServer();
    const port = first.address().port;
    const client = await connect(first);
    await client.join('127.0.0.1', 8776, [], 'late');
    const lost = next(client, 'lost');
    await first.close();
    await lost;
    const second = await startServer({ port, maxPeers: 1 });
    const squatter = await connect(second, { reconnect: false });
    await squatter.join('127.0.0.1', 9999, []);
    const rejoined = next(client, 'rejoined');
    squatter.close();
    await rejoined;
    expect((await second.registry.snapshot()).map((entry) => entry.address)).toEqual(['127.0.0.1:8776']);
  });

  it('does not come back after LEAVE or close(), nor before any JOIN', async () => {
    const first = await startServer();
    const port = first.address().port;
    const left = await connect(first);
    await left.join('127.0.0.1', 8776, []);
    await left.leave();
    const closed = await connect(first);
    await closed.join('127.0.0.1', 8777, []);
    const never = await connect(first);
    const lost = next(closed, 'lost');
    await first.close();
    await lost;
    closed.close();
    const second = await startServer({ port });
    // A fresh client joins and finds the index empty but for itself: nobody else came back.
    const probe = await connect(second);
    await probe.join('127.0.0.1', 9000, []);
    expect(await probe.list()).toEqual([{ address: '127.0.0.1:9000', fileCount: 0 }]);
    expect(left.closed && closed.closed && never.closed).toBe(true);
  });
});
