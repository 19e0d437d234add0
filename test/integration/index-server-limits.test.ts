/**
 * The index server under the attacks of a few hostile sockets (test/helpers/attackers.ts): idle
 * connections, slowloris, connection floods over the caps, 1,000 partial lines, a chat flood.
 * Each time the server stays up, the hostile newcomer gets its one-line refusal, and well-behaved
 * peers on 127.0.0.1 are served throughout. Timeouts are shortened through the options.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { GuardLimits } from '../../io/connection-guard.ts';
import { IndexServer } from '../../server/index-server.ts';
import {
  ATTACKER_IP,
  type AttackSocket,
  connectFrom,
  endAttack,
  idleFlood,
  loopbackAddress,
  partialLines,
  slowloris,
} from '../helpers/attackers.ts';
import { killAll, runCli, startServer } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs } from '../helpers/files.ts';
import { LineClient } from '../helpers/line-client.ts';
import { waitUntil } from '../helpers/wait.ts';

let server: IndexServer | undefined;
const clients: LineClient[] = [];
const attacks: AttackSocket[] = [];

async function start(limits: Partial<GuardLimits> = {}, chatRatePerSecond?: number): Promise<IndexServer> {
  server = await IndexServer.start({
    host: '127.0.0.1',
    port: 0,
    print: () => {},
    limits,
    chatRatePerSecond,
  });
  return server;
}

function port(): number {
  return (server as IndexServer).address().port;
}

async function peer(filePort: number, files: string[] = [], alias?: string): Promise<LineClient> {
  const client = await LineClient.connect(port());
  clients.push(client);
  expect(await client.request({ type: 'JOIN', ip: '127.0.0.1', port: filePort, files, alias })).toEqual({
    type: 'JOIN_OK',
  });
  return client;
}

function errorLine(code: string, message: string): string {
  return `${JSON.stringify({ type: 'ERROR', code, message })}\n`;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await endAttack(attacks.splice(0));
  await server?.close();
  server = undefined;
  await killAll();
  await removeTempDirs();
});

describe('index server: idle and unfinished connections', () => {
  it('closes a connection that has not JOINed and sends nothing, with IDLE_TIMEOUT; a silent joined peer stays', async () => {
    await start({ idleTimeoutMs: 300 });
    const joined = await peer(7001, ['kept.mp4']);
    const [idle] = await idleFlood({ port: port() }, 1);
    attacks.push(idle as AttackSocket);
    await (idle as AttackSocket).waitClosed(10_000, 'the idle connection to be closed');
    expect(idle?.text).toBe(errorLine('IDLE_TIMEOUT', 'No request for 0.3 s; the connection is closed.'));
    expect(idle?.lifetimeMs).toBeGreaterThanOrEqual(290);
    // The joined peer has been silent for longer than the timeout, and is still served.
    expect(await joined.request({ type: 'SEARCH', file: 'kept.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:7001'],
    });
  });

  it('a request before JOIN restarts the idle deadline, and LEAVE starts it again', async () => {
    await start({ idleTimeoutMs: 400 });
    const client = await LineClient.connect(port());
    clients.push(client);
    const opened = performance.now();
    // Requests every 150 ms keep a not-joined connection open past the timeout.
    for (let i = 0; i < 5; i++) {
      expect((await client.request({ type: 'SEARCH', file: 'x' })).code).toBe('NOT_JOINED');
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect(performance.now() - opened).toBeGreaterThan(400);
    expect(await client.request({ type: 'JOIN', ip: '127.0.0.1', port: 7002, files: [] })).toEqual({
      type: 'JOIN_OK',
    });
    expect(await client.request({ type: 'LEAVE' })).toEqual({ type: 'LEAVE_OK' });
    const left = performance.now();
    await client.closed;
    expect(performance.now() - left).toBeGreaterThanOrEqual(390);
    expect(client.lines.at(-1)).toBe(
      errorLine('IDLE_TIMEOUT', 'No request for 0.4 s; the connection is closed.').trimEnd(),
    );
  });

  it('cuts a slowloris line after the line timeout however it trickles, joined or not; others go on', async () => {
    await start({ lineTimeoutMs: 500, idleTimeoutMs: 0 });
    const good = await peer(7003, ['a.mp4']);
    const joinedAttacker = await connectFrom(port(), ATTACKER_IP);
    attacks.push(joinedAttacker);
    joinedAttacker.write('{"type":"JOIN","ip":"127.0.0.66","port":7004,"files":[]}\n');
    const trickle = await slowloris({ port: port() }, 3, { tickMs: 50 });
    attacks.push(...trickle.sockets);
    joinedAttacker.write('{"type":"SEARCH","file":"');
    const joinedTrickle = setInterval(() => joinedAttacker.write('z'), 50);
    try {
      for (const attack of [...trickle.sockets, joinedAttacker]) {
        await attack.waitClosed(10_000, 'the slowloris connection to be cut');
        expect(attack.lifetimeMs).toBeGreaterThanOrEqual(490);
      }
    } finally {
      trickle.stop();
      clearInterval(joinedTrickle);
    }
    const cut = errorLine('LINE_TIMEOUT', 'A line was left unfinished for 0.5 s; the connection is closed.');
    for (const attack of trickle.sockets) expect(attack.text).toBe(cut);
    expect(joinedAttacker.text).toBe(`{"type":"JOIN_OK"}\n${cut}`);
    expect(await good.request({ type: 'SEARCH', file: 'a.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:7003'],
    });
  });
});

describe('index server: connection caps', () => {
  it('refuses connections past the per-IP cap with one line; peers of other addresses are served', async () => {
    await start({ maxConnectionsPerIp: 5 });
    const flood = await idleFlood({ port: port() }, 8);
    attacks.push(...flood);
    const refused = flood.slice(5);
    for (const attack of refused)
      await attack.waitClosed(10_000, 'a connection over the per-IP cap to close');
    for (const attack of refused)
      expect(attack.text).toBe(
        errorLine(
          'TOO_MANY_CONNECTIONS',
          'Your address 127.0.0.66 already has 5 connections open here; close one and try again.',
        ),
      );
    expect(flood.slice(0, 5).every((attack) => !attack.isClosed)).toBe(true);
    // Well-behaved peers on 127.0.0.1 join and search while the attacker holds its share.
    const a = await peer(7010, ['x.mp4']);
    const b = await peer(7011);
    expect(await b.request({ type: 'SEARCH', file: 'x.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:7010'],
    });
    expect(a.socket.destroyed).toBe(false);
  });

  it('past the server cap a newcomer gets SERVER_BUSY, never a reset; a freed place is reused', async () => {
    await start({ maxConnections: 10, maxConnectionsPerIp: 10 });
    const flood = await idleFlood({ port: port(), from: loopbackAddress }, 10);
    attacks.push(...flood);
    const late = await connectFrom(port(), '127.0.0.1');
    attacks.push(late);
    await late.waitClosed(10_000, 'the newcomer over the cap to be refused');
    expect(late.text).toBe(
      errorLine('SERVER_BUSY', 'The server already serves its maximum of 10 connections; try again later.'),
    );
    flood[0]?.destroy();
    await waitUntil(() => server?.connectionCount === 9, 'the server to see a flood connection close');
    await peer(7020);
  });

  it('the CLI flags set the caps: --max-connections-per-ip 2', async () => {
    const { port: cliPort } = await startServer(['--max-connections-per-ip', '2']);
    const flood = await idleFlood({ port: cliPort }, 3);
    attacks.push(...flood);
    await flood[2]?.waitClosed(10_000, 'the third connection to be refused');
    expect(flood[2]?.text).toBe(
      errorLine(
        'TOO_MANY_CONNECTIONS',
        'Your address 127.0.0.66 already has 2 connections open here; close one and try again.',
      ),
    );
  });
});

describe('index server: a refused napshare peer', () => {
  it('tells its user why the server refused it, in one sentence on stderr', async () => {
    const { port: cliPort } = await startServer(['--max-connections-per-ip', '1']);
    // Another connection from 127.0.0.1 holds the address's only place.
    const holder = await connectFrom(cliPort, '127.0.0.1');
    attacks.push(holder);
    const dir = await makeTempDir();
    const peerCli = runCli('peer', ['--server', `127.0.0.1:${cliPort}`]);
    peerCli.send(`JOIN 127.0.0.1 0 ${dir}`);
    expect(await peerCli.end()).toBe(1);
    expect(peerCli.stdout).toEqual([]);
    expect(peerCli.stderr).toContain(
      `The index server at 127.0.0.1:${cliPort} refused the connection: Your address 127.0.0.1 already has 1 connections open here; close one and try again.`,
    );
  });
});

describe('index server: memory under 1,000 partial lines', () => {
  it('1,000 connections each holding 1 MiB of an unfinished line keep the server far below 1 GB', async () => {
    // The real server process with its default limits; each attacker from its own address.
    const { server: cli, port: cliPort } = await startServer();
    const attack = await partialLines({ port: cliPort, from: loopbackAddress }, 1000, 1024 * 1024);
    attacks.push(...attack);
    // The server has read all it will: every attacker it evicted has been told, the rest wait.
    const good = await LineClient.connect(cliPort);
    clients.push(good);
    expect(await good.request({ type: 'JOIN', ip: '127.0.0.1', port: 7030, files: ['f.mp4'] })).toEqual({
      type: 'JOIN_OK',
    });
    const evicted = attack.filter((socket) => socket.text !== '');
    for (let i = 0; i < 200 && evicted.length < 900; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      evicted.splice(0, evicted.length, ...attack.filter((socket) => socket.text !== ''));
    }
    const rssMiB = await residentMiB(cli.child.pid as number);
    // 64 MiB of lines at most (INDEX_MAX_PENDING_INPUT_BYTES) plus the process and garbage not yet
    // collected; without the bound it holds over 1 GB.
    expect(rssMiB).toBeLessThan(400);
    expect(evicted.length).toBeGreaterThan(900);
    expect(evicted[0]?.text).toBe(
      errorLine(
        'SERVER_BUSY',
        'The server is short of room for unfinished lines and yours was the oldest; the connection is closed, try again.',
      ),
    );
    expect(await good.request({ type: 'SEARCH', file: 'f.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:7030'],
    });
  });
});

describe('index server: chat flood', () => {
  it('relays a burst, then answers RATE_LIMITED and relays nothing more; the notice names the rate', async () => {
    await start({}, 5);
    const talker = await peer(7040, [], 'talker');
    const listener = await peer(7041, [], 'listener');
    const marker = await peer(7042, [], 'marker');
    const sent = 200;
    const first = talker.lines.length;
    talker.send(`${JSON.stringify({ type: 'CHAT', text: 'spam' })}\n`.repeat(sent));
    const replies = await Promise.all(Array.from({ length: sent }, (_, i) => talker.json(first + i)));
    const ok = replies.filter((reply) => reply.type === 'CHAT_OK').length;
    const limited = replies.filter((reply) => reply.code === 'RATE_LIMITED');
    // A burst of 4 s of the rate (20), and a token or two more if the machine is slow.
    expect(ok).toBeGreaterThanOrEqual(20);
    expect(ok).toBeLessThan(30);
    expect(limited).toHaveLength(sent - ok);
    expect(limited[0]).toEqual({
      type: 'ERROR',
      code: 'RATE_LIMITED',
      message: 'Too many chat messages: at most 5 a second; this one was not sent.',
    });
    // The listener got exactly the relayed ones: another member's message marks the end.
    expect(await marker.request({ type: 'CHAT', text: 'the end' })).toMatchObject({ type: 'CHAT_OK' });
    let end = 1;
    while ((await listener.json(end)).text !== 'the end') end++;
    const pushes = listener.lines
      .slice(1, end)
      .map((line) => JSON.parse(line) as { type: string; text: string });
    expect(pushes).toEqual(
      Array.from({ length: ok }, () => ({
        type: 'CHAT',
        alias: 'talker',
        from: '127.0.0.1:7040',
        text: 'spam',
      })),
    );
  });
});

async function residentMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kib / 1024;
}
