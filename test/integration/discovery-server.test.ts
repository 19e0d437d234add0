/**
 * The index server as seed 002's discovery server, over real sockets: aliases, LIST, QUERY,
 * SET_FILES, a chat relayed to every other member, departures seen by the others (LEAVE, closed
 * connection, missed heartbeats), max peers, and a relay to a member that does not read.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexServer, type IndexServerOptions } from '../../server/index-server.ts';
import { LineClient } from '../helpers/line-client.ts';
import { waitUntil } from '../helpers/wait.ts';

let server: IndexServer | undefined;
let printed: string[];
const clients: LineClient[] = [];
const sockets: net.Socket[] = [];

async function start(options: Partial<IndexServerOptions> = {}): Promise<IndexServer> {
  printed = [];
  server = await IndexServer.start({
    host: '127.0.0.1',
    port: 0,
    print: (line) => printed.push(line),
    ...options,
  });
  return server;
}

async function client(): Promise<LineClient> {
  const c = await LineClient.connect((server as IndexServer).address().port);
  clients.push(c);
  return c;
}

/** A client joined as `port` (and `alias`, if given). */
async function joined(port: number, files: string[] = [], alias?: string): Promise<LineClient> {
  const c = await client();
  const join = { type: 'JOIN', ip: '127.0.0.1', port, files, ...(alias === undefined ? {} : { alias }) };
  expect(await c.request(join)).toEqual({ type: 'JOIN_OK' });
  return c;
}

/** The next line `c` receives whose type is `type`, from line `from` on. */
async function nextOfType(c: LineClient, type: string, from = 0): Promise<Record<string, unknown>> {
  for (let i = from; ; i++) {
    const message = await c.json(i);
    if (message.type === type) return message;
  }
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

describe('discovery server', () => {
  it('relays CHAT to every other member with alias and address, never echoing; course peers get no pushes', async () => {
    await start();
    const tina = await joined(8776, ['a.mp4'], 'tina');
    const bob = await joined(8777, [], 'bob');
    const course = await joined(8778, ['a.mp4']); // the course's JOIN: no alias
    const ana = await joined(8779, [], 'ana');
    expect(await tina.request({ type: 'CHAT', text: 'hi all' })).toEqual({ type: 'CHAT_OK', delivered: 2 });
    const relayed = { type: 'CHAT', alias: 'tina', from: '127.0.0.1:8776', text: 'hi all' };
    expect(await bob.json(1)).toEqual(relayed);
    expect(await ana.json(1)).toEqual(relayed);
    // The sender's next line is the reply to its next request, not its own message.
    expect(await tina.request({ type: 'LIST' })).toMatchObject({ type: 'LIST_OK' });
    // The course peer's next line is its own reply: nothing was pushed to it.
    expect(await course.request({ type: 'SEARCH', file: 'a.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:8776', '127.0.0.1:8778'],
    });
    expect(await course.request({ type: 'CHAT', text: 'me too' })).toMatchObject({
      type: 'ERROR',
      code: 'BAD_REQUEST',
    });
    // Only the course's two lines on stdout: JOINs (with or without alias) and the SEARCH.
    expect(printed).toEqual([
      'Peer 127.0.0.1:8776 adicionado com arquivos a.mp4',
      'Peer 127.0.0.1:8777 adicionado com arquivos',
      'Peer 127.0.0.1:8778 adicionado com arquivos a.mp4',
      'Peer 127.0.0.1:8779 adicionado com arquivos',
      'Peer 127.0.0.1:8778 solicitou arquivo a.mp4',
    ]);
  });

  it('ALIAS, LIST, QUERY and SET_FILES', async () => {
    await start();
    const tina = await joined(8776, ['a.mp4', 'b.mp4'], 'tina');
    const other = await joined(8777, ['a.mp4']);
    expect(await other.request({ type: 'ALIAS', alias: 'bob' })).toEqual({ type: 'ALIAS_OK', alias: 'bob' });
    expect(await tina.request({ type: 'LIST' })).toEqual({
      type: 'LIST_OK',
      peers: [
        { address: '127.0.0.1:8776', fileCount: 2, alias: 'tina' },
        { address: '127.0.0.1:8777', fileCount: 1, alias: 'bob' },
      ],
    });
    expect(await tina.request({ type: 'QUERY', file: 'a.mp4' })).toEqual({
      type: 'QUERY_OK',
      file: 'a.mp4',
      peers: [
        { address: '127.0.0.1:8776', alias: 'tina' },
        { address: '127.0.0.1:8777', alias: 'bob' },
      ],
    });
    expect(await tina.request({ type: 'SET_FILES', files: ['c.mp4'] })).toEqual({
      type: 'SET_FILES_OK',
      fileCount: 1,
    });
    expect(await other.request({ type: 'QUERY', file: 'a.mp4' })).toMatchObject({
      peers: [{ address: '127.0.0.1:8777' }],
    });
    expect(await other.request({ type: 'SEARCH', file: 'c.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:8776'],
    });
    const stranger = await client();
    expect(await stranger.request({ type: 'LIST' })).toMatchObject({ type: 'ERROR', code: 'NOT_JOINED' });
    expect(printed.filter((line) => !line.includes('adicionado') && !line.includes('solicitou'))).toEqual([]);
  });

  it('members see a peer leave by LEAVE and by a closed connection', async () => {
    await start();
    const tina = await joined(8776, [], 'tina');
    const bob = await joined(8777, ['x'], 'bob');
    const course = await joined(8778);
    expect(await bob.request({ type: 'LEAVE' })).toEqual({ type: 'LEAVE_OK' });
    expect(await tina.json(0 + 1)).toEqual({
      type: 'PEER_LEFT',
      address: '127.0.0.1:8777',
      reason: 'left',
      alias: 'bob',
    });
    expect(await tina.request({ type: 'SEARCH', file: 'x' })).toEqual({ type: 'SEARCH_OK', peers: [] });
    course.close();
    expect(await nextOfType(tina, 'PEER_LEFT', 3)).toEqual({
      type: 'PEER_LEFT',
      address: '127.0.0.1:8778',
      reason: 'closed',
    });
    // After LEAVE the connection is open and may JOIN again.
    expect(await bob.request({ type: 'JOIN', ip: '127.0.0.1', port: 8777, files: [] })).toEqual({
      type: 'JOIN_OK',
    });
  });

  it('drops a peer that pinged and then fell silent, and never one that did not opt in', async () => {
    await start({ heartbeatTimeoutMs: 600 });
    const course = await joined(8778, ['c.mp4']); // silent from now on, never pings
    const watcher = await joined(8776, [], 'watcher');
    const silent = await joined(8777, [], 'silent');
    expect(await silent.request({ type: 'PING' })).toEqual({ type: 'PONG', timeoutMs: 600 });
    // The watcher keeps pinging, as a live peer does, until the silent one is announced.
    expect(await watcher.request({ type: 'PING' })).toEqual({ type: 'PONG', timeoutMs: 600 });
    const beat = setInterval(() => watcher.send({ type: 'PING' }), 100);
    try {
      expect(await nextOfType(watcher, 'PEER_LEFT')).toEqual({
        type: 'PEER_LEFT',
        address: '127.0.0.1:8777',
        reason: 'timeout',
        alias: 'silent',
      });
    } finally {
      clearInterval(beat);
    }
    await silent.closed;
    // The course peer said nothing for longer than the timeout and is still indexed.
    expect(await course.request({ type: 'SEARCH', file: 'c.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:8778'],
    });
  });

  it('refuses the peer past --max-peers with SERVER_FULL; a place freed is taken again', async () => {
    await start({ maxPeers: 2 });
    const a = await joined(8776, [], 'a');
    await joined(8777, [], 'b');
    const c = await client();
    const refused = await c.request({ type: 'JOIN', ip: '127.0.0.1', port: 8778, files: [], alias: 'c' });
    expect(refused).toMatchObject({ type: 'ERROR', code: 'SERVER_FULL' });
    expect(refused.message).toMatch(/full/);
    expect(printed).toHaveLength(2); // a refused JOIN prints nothing
    a.close();
    await waitUntil(async () => (await server?.registry.counts())?.peers === 1, 'the server sees the close');
    expect(await c.request({ type: 'JOIN', ip: '127.0.0.1', port: 8778, files: [], alias: 'c' })).toEqual({
      type: 'JOIN_OK',
    });
  });

  it('cuts off a member that never reads its pushes; the others keep chatting', async () => {
    // The flood comes from one talker: lift its chat rate, this test is about the unread bound.
    await start({ chatRatePerSecond: 1_000_000 });
    const talker = await joined(8776, [], 'talker');
    const reader = await joined(8777, [], 'reader');
    // A member that joins and then never reads anything.
    const deaf = await new Promise<net.Socket>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: (server as IndexServer).address().port }, () =>
        resolve(s),
      );
    });
    sockets.push(deaf);
    deaf.on('error', () => {});
    deaf.write('{"type":"JOIN","ip":"127.0.0.1","port":8778,"files":[],"alias":"deaf"}\n');
    deaf.pause();
    await nextOfType(talker, 'JOIN_OK'); // (the talker's own JOIN_OK is line 0)
    const text = 'x'.repeat(4000);
    // 24 MB in all: more than the kernel's buffers plus the 100 KiB a member may leave unread.
    const count = 6000;
    const batch = 100;
    for (let sent = 0; sent < count; sent += batch) {
      talker.send(`${JSON.stringify({ type: 'CHAT', text })}\n`.repeat(batch));
      // A member that reads keeps up with the chat: the next 400 KB go once it has these (line 0
      // is its JOIN_OK). Unpaced, a reader in a busy test process could fall 100 KiB behind too.
      await reader.line(sent + batch);
    }
    const left = await nextOfType(reader, 'PEER_LEFT', 1);
    expect(left).toEqual({ type: 'PEER_LEFT', address: '127.0.0.1:8778', reason: 'closed', alias: 'deaf' });
    await talker.line(count); // every CHAT answered
    expect(await talker.request({ type: 'CHAT', text: 'still here' })).toEqual({
      type: 'CHAT_OK',
      delivered: 1,
    });
    // Lines 0 to count + 1: JOIN_OK, every CHAT, the departure; then the last message.
    expect((await reader.json(count + 2)).text).toBe('still here');
  });
});
