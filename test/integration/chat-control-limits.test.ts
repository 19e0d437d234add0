/**
 * The netcat chat server and the DHT daemon's control socket under hostile sockets: connection
 * caps (per server and per address) answered with a line, idle and slowloris clients closed with
 * a line saying why, a chat flood cut to its rate with a notice, a control client that never
 * reads its answers cut off. Well-behaved clients on 127.0.0.1 are served throughout.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ControlLimits, ControlServer } from '../../peer/dht/control-server.ts';
import { ChatServer, type ChatServerOptions } from '../../server/chat-server.ts';
import {
  type AttackSocket,
  connectFrom,
  endAttack,
  idleFlood,
  loopbackAddress,
  slowloris,
} from '../helpers/attackers.ts';
import { waitUntil } from '../helpers/wait.ts';

const attacks: AttackSocket[] = [];
const closers: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  await endAttack(attacks.splice(0));
  for (const close of closers.splice(0)) await close();
});

async function chatServer(options: Partial<ChatServerOptions> = {}): Promise<ChatServer> {
  const chat = await ChatServer.start({ host: '127.0.0.1', port: 0, ...options });
  closers.push(() => chat.close());
  return chat;
}

/** A well-behaved chat client on 127.0.0.1 (an attack socket that plays by the rules). */
async function member(chat: ChatServer): Promise<AttackSocket> {
  const before = chat.clientCount;
  const client = await connectFrom(chat.port, '127.0.0.1');
  attacks.push(client);
  await waitUntil(() => chat.clientCount > before, 'the chat server to count the new member');
  return client;
}

describe('chat server limits', () => {
  it('refuses clients past the per-address cap with one line; others still join and chat', async () => {
    const chat = await chatServer({ maxClientsPerIp: 3 });
    const flood = await idleFlood({ port: chat.port }, 5);
    attacks.push(...flood);
    for (const attack of flood.slice(3)) await attack.waitClosed(10_000, 'a client over the cap to close');
    for (const attack of flood.slice(3))
      expect(attack.text).toBe('Too many clients from your address (3); try again later.\n');
    const [a, b] = [await member(chat), await member(chat)];
    a.write('hello\n');
    await waitUntil(() => b.text.includes('hello\n'), 'the line to reach the other member');
    // The attacker's three idle clients got the line too: they are members like the others.
    expect(flood[0]?.text).toBe('hello\n');
  });

  it('past the server cap a newcomer gets the "full" line', async () => {
    const chat = await chatServer({ maxClients: 6 });
    const flood = await idleFlood({ port: chat.port, from: loopbackAddress }, 6);
    attacks.push(...flood);
    const late = await connectFrom(chat.port, '127.0.0.1');
    attacks.push(late);
    await late.waitClosed(10_000, 'the client over the cap to be refused');
    expect(late.text).toBe('Chat server full (6 clients); try again later.\n');
  });

  it('disconnects a silent client after the idle timeout, and a slowloris after the line timeout', async () => {
    const chat = await chatServer({ idleTimeoutMs: 400, lineTimeoutMs: 300 });
    const [idle] = await idleFlood({ port: chat.port }, 1);
    attacks.push(idle as AttackSocket);
    const trickle = await slowloris({ port: chat.port }, 2, { tickMs: 40, prefix: 'never ends' });
    attacks.push(...trickle.sockets);
    try {
      for (const attack of trickle.sockets) await attack.waitClosed(10_000, 'the slowloris to be cut');
    } finally {
      trickle.stop();
    }
    for (const attack of trickle.sockets) {
      expect(attack.text).toBe('Line left unfinished for 0.3 s; disconnected.\n');
      expect(attack.lifetimeMs).toBeGreaterThanOrEqual(290);
    }
    await idle?.waitClosed(10_000, 'the idle client to be disconnected');
    expect(idle?.text).toBe('Nothing sent for 0.4 s; disconnected.\n');
    expect(idle?.lifetimeMs).toBeGreaterThanOrEqual(390);
  });

  it('relays a flood only up to the rate, tells the sender once, and relays the others normally', async () => {
    const chat = await chatServer({ linesPerSecond: 5 });
    const [flooder, reader, other] = [await member(chat), await member(chat), await member(chat)];
    flooder.write('spam\n'.repeat(500));
    // The flooder hears about it; its burst (4 s of the rate: 20 lines) got through.
    await waitUntil(() => flooder.text !== '', 'the flood notice');
    expect(flooder.text).toBe('Too many lines: at most 5 a second; lines were not relayed.\n');
    other.write('after the flood\n');
    await waitUntil(() => reader.text.endsWith('after the flood\n'), 'the next line of another member');
    const spam = reader.text.split('\n').filter((line) => line === 'spam').length;
    expect(spam).toBeGreaterThanOrEqual(20);
    expect(spam).toBeLessThan(30);
  });
});

async function controlServer(limits: Partial<ControlLimits> = {}): Promise<ControlServer> {
  const control = await ControlServer.start({
    host: '127.0.0.1',
    port: 0,
    limits,
    // Every command answers a large block, as a search listing many holders would.
    handle: async (line) => ({ lines: line === 'big' ? ['x'.repeat(600_000), 'y'.repeat(600_000)] : ['ok'] }),
  });
  closers.push(() => control.close());
  return control;
}

/** Sends one command and resolves with its answer (up to the empty line). */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.endsWith('\n\n')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
    socket.write(`${command}\n`);
  });
}

describe('DHT control socket limits', () => {
  it('refuses clients past the per-address and the total cap with a line, not a silent drop', async () => {
    const control = await controlServer({ maxClients: 6, maxClientsPerIp: 4 });
    const flood = await idleFlood({ port: control.port }, 5);
    attacks.push(...flood);
    await flood[4]?.waitClosed(10_000, 'the fifth client to be refused');
    expect(flood[4]?.text).toBe(
      'Connection closed: already 4 control clients from your address; try again later.\n\n',
    );
    // A person on 127.0.0.1 is still served; then the total cap is reached.
    expect(await ask(control.port, 'status')).toBe('ok\n\n');
    const more = await idleFlood({ port: control.port, from: loopbackAddress }, 3);
    attacks.push(...more);
    await more[2]?.waitClosed(10_000, 'a client over the total cap to be refused');
    expect(more[2]?.text).toBe('Connection closed: already 6 control clients; try again later.\n\n');
  });

  it('closes a client with no command for the idle timeout and a slowloris after the line timeout', async () => {
    const control = await controlServer({ idleTimeoutMs: 400, lineTimeoutMs: 300 });
    const [idle] = await idleFlood({ port: control.port }, 1);
    attacks.push(idle as AttackSocket);
    const trickle = await slowloris({ port: control.port }, 1, { tickMs: 40, prefix: 'search ' });
    attacks.push(...trickle.sockets);
    try {
      await trickle.sockets[0]?.waitClosed(10_000, 'the slowloris to be cut');
    } finally {
      trickle.stop();
    }
    expect(trickle.sockets[0]?.text).toBe('Connection closed: a line was left unfinished for 0.3 s.\n\n');
    await idle?.waitClosed(10_000, 'the idle client to be closed');
    expect(idle?.text).toBe('Connection closed: no command for 0.4 s.\n\n');
    expect(idle?.lifetimeMs).toBeGreaterThanOrEqual(390);
  });

  it('cuts off a client that pipelines commands and never reads the answers; others are answered', async () => {
    const control = await controlServer({ idleTimeoutMs: 500 });
    const deaf = await connectFrom(control.port, '127.0.0.1');
    attacks.push(deaf);
    deaf.socket.pause();
    // Each answer is 1.2 MB: the kernel's buffers fill, the next answer waits, nothing is read.
    deaf.write('big\n'.repeat(16));
    await waitUntil(() => control.clientCount === 1, 'the daemon to count the deaf client');
    const began = performance.now();
    await waitUntil(() => control.clientCount === 0, 'the deaf client to be cut off', 20_000);
    expect(performance.now() - began).toBeGreaterThanOrEqual(400);
    expect(await ask(control.port, 'status')).toBe('ok\n\n');
    deaf.socket.resume();
    await deaf.waitClosed(10_000, 'the deaf client to see its connection closed');
    // It got what fitted in the buffers, not the 19 MB it asked for.
    expect(deaf.bytesReceived).toBeLessThan(16 * 1_200_000);
  });
});
