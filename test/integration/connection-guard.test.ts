/**
 * The connection guard itself, on a bare line server (a LineConnection that echoes): who the input
 * budget evicts, how long a refused client that never closes may linger, how much a lingering
 * client may still send, and that the caps count connections until they are really closed.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectionGuard,
  DISMISS_LINGER_MS,
  type GuardLimits,
  MAX_DRAIN_BYTES,
  MAX_LINGERING,
} from '../../io/connection-guard.ts';
import { LineConnection } from '../../io/line-connection.ts';
import { listen } from '../../io/listen.ts';
import { AttackSocket, connectFrom, endAttack } from '../helpers/attackers.ts';
import { waitUntil } from '../helpers/wait.ts';

const attacks: AttackSocket[] = [];
const servers: net.Server[] = [];

afterEach(async () => {
  await endAttack(attacks.splice(0));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A line server that answers each line with {"echo": line}; refusals are "REFUSED <cause>". */
async function echoServer(
  limits: GuardLimits,
  lingerMs?: number,
): Promise<{ guard: ConnectionGuard; port: number }> {
  const server = net.createServer();
  servers.push(server);
  const guard = new ConnectionGuard({
    name: 'echo',
    limits,
    lingerMs,
    format: (cause) => `REFUSED ${cause}\n`,
  });
  guard.attach(server, (connection) => {
    new LineConnection(connection, {
      maxLineBytes: 1 << 20,
      onLine: async (line) => ({ echo: line.toString('utf8') }),
      onOverflow: () => ({ error: 'too long' }),
    });
  });
  await listen(server, '127.0.0.1', 0);
  return { guard, port: (server.address() as net.AddressInfo).port };
}

describe('connection guard', () => {
  it('evicts the connection holding the oldest unfinished line when the input budget is full', async () => {
    const { guard, port } = await echoServer({
      maxConnections: 10,
      maxConnectionsPerIp: 10,
      maxPendingInputBytes: 1500,
    });
    const [a, b, c] = [
      await connectFrom(port, '127.0.0.1'),
      await connectFrom(port, '127.0.0.1'),
      await connectFrom(port, '127.0.0.1'),
    ];
    attacks.push(a, b, c);
    a.write('a'.repeat(600));
    await waitUntil(() => guard.pendingInputBytes === 600, 'the first partial line to be held');
    b.write('b'.repeat(600));
    await waitUntil(() => guard.pendingInputBytes === 1200, 'the second partial line to be held');
    // C's bytes pass the budget: A's line is the oldest, A goes.
    c.write('c'.repeat(600));
    await a.waitClosed(10_000, 'the oldest holder to be evicted');
    expect(a.text).toBe('REFUSED INPUT_BUDGET\n');
    expect(guard.pendingInputBytes).toBe(1200);
    // The others keep their lines and are answered when they finish them.
    b.write('\n');
    await waitUntil(() => b.text !== '', 'the second client to be answered');
    expect(JSON.parse(b.text)).toEqual({ echo: 'b'.repeat(600) });
    expect(c.isClosed).toBe(false);
  });

  it('drops a refused client that keeps its side open after DISMISS_LINGER_MS', async () => {
    const { guard, port } = await echoServer({ maxConnections: 1, maxConnectionsPerIp: 1 });
    attacks.push(await connectFrom(port, '127.0.0.1'));
    await waitUntil(() => guard.size === 1, 'the first client to be admitted');
    // A client that never ends its side: only the server's linger timer can close it.
    const late = new AttackSocket(net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }));
    attacks.push(late);
    await waitUntil(() => late.text !== '', 'the refusal line');
    expect(late.text).toBe('REFUSED SERVER_BUSY\n');
    expect(guard.lingeringCount).toBe(1);
    await waitUntil(
      () => guard.lingeringCount === 0,
      'the server to drop the lingering client',
      DISMISS_LINGER_MS + 8000,
    );
    expect(performance.now() - late.openedAtMs).toBeGreaterThanOrEqual(DISMISS_LINGER_MS - 50);
  });

  it('drops a dismissed client at once when it keeps sending past MAX_DRAIN_BYTES', async () => {
    const { guard, port } = await echoServer({ maxConnections: 10, maxConnectionsPerIp: 1 });
    attacks.push(await connectFrom(port, '127.0.0.1'));
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const talker = new AttackSocket(socket);
    attacks.push(talker);
    await waitUntil(() => talker.text !== '', 'the refusal line');
    const sent = performance.now();
    // Much more than the server reads from a client it has refused.
    socket.write(Buffer.alloc(MAX_DRAIN_BYTES * 16, 'z'));
    await waitUntil(
      () => guard.lingeringCount === 0,
      'the server to drop the talker',
      DISMISS_LINGER_MS + 8000,
    );
    // Far sooner than the linger timer would have.
    expect(performance.now() - sent).toBeLessThan(DISMISS_LINGER_MS / 2);
  });

  it('keeps at most MAX_LINGERING refused clients lingering: a flood of newcomers costs bounded descriptors', async () => {
    // A linger longer than the flood takes, so only the bound can drop anyone.
    const { guard, port } = await echoServer({ maxConnections: 1, maxConnectionsPerIp: 1 }, 120_000);
    attacks.push(await connectFrom(port, '127.0.0.1'));
    await waitUntil(() => guard.size === 1, 'the first client to be admitted');
    // Half-open clients that never close: each would linger as long as the server lets it.
    const flood: AttackSocket[] = [];
    let most = 0;
    for (let i = 0; i < MAX_LINGERING + 50; i++) {
      const attack = new AttackSocket(net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }));
      flood.push(attack);
      attacks.push(attack);
      if (i % 100 === 99) {
        await waitUntil(
          () => flood.every((socket) => socket.text !== ''),
          'every newcomer to be refused',
          20_000,
        );
        most = Math.max(most, guard.lingeringCount);
      }
    }
    await waitUntil(
      () => flood.every((socket) => socket.text !== ''),
      'every newcomer to be refused',
      20_000,
    );
    most = Math.max(most, guard.lingeringCount);
    // Every newcomer got its line; the oldest were dropped to stay within the bound.
    expect(flood.every((socket) => socket.text === 'REFUSED SERVER_BUSY\n')).toBe(true);
    expect(most).toBe(MAX_LINGERING);
  });

  it('counts a connection against the caps until it has really closed, then admits the next', async () => {
    const { guard, port } = await echoServer({ maxConnections: 2, maxConnectionsPerIp: 2 });
    const [a, b] = [await connectFrom(port, '127.0.0.1'), await connectFrom(port, '127.0.0.1')];
    attacks.push(a, b);
    await waitUntil(() => guard.size === 2, 'two clients admitted');
    expect(guard.countFrom('127.0.0.1')).toBe(2);
    a.destroy();
    await waitUntil(() => guard.size === 1, 'the server to see the close');
    expect(guard.countFrom('127.0.0.1')).toBe(1);
    const c = await connectFrom(port, '127.0.0.1');
    attacks.push(c);
    c.write('hi\n');
    await waitUntil(() => c.text !== '', 'the newcomer to be answered');
    expect(JSON.parse(c.text)).toEqual({ echo: 'hi' });
  });

  it('runs no idle deadline while the server itself takes long to answer, and a full one after', async () => {
    // The answer waits for the test (as a JOIN waits for the registry's lock on a loaded server).
    let release: () => void = () => {};
    const answered = new Promise<void>((resolve) => {
      release = resolve;
    });
    const server = net.createServer();
    servers.push(server);
    const idleTimeoutMs = 200;
    const guard = new ConnectionGuard({
      name: 'slow',
      limits: { maxConnections: 10, maxConnectionsPerIp: 10, idleTimeoutMs },
      format: (cause) => `REFUSED ${cause}\n`,
    });
    guard.attach(server, (connection) => {
      connection.expectRequest();
      new LineConnection(connection, {
        maxLineBytes: 1 << 20,
        onLine: async (line) => {
          await answered;
          return { echo: line.toString('utf8') };
        },
        onOverflow: () => ({ error: 'too long' }),
      });
    });
    await listen(server, '127.0.0.1', 0);
    const client = await connectFrom((server.address() as net.AddressInfo).port, '127.0.0.1');
    attacks.push(client);
    client.write('slow\n');
    // Five idle timeouts pass while the answer is held: the client asked, it is not idle.
    await new Promise((resolve) => setTimeout(resolve, 5 * idleTimeoutMs));
    expect(client.isClosed).toBe(false);
    release();
    await waitUntil(() => client.text !== '', 'the held answer');
    expect(JSON.parse(client.text)).toEqual({ echo: 'slow' });
    // Answered and still owing a request: a full idle deadline, then IDLE_TIMEOUT.
    await client.waitClosed(10_000, 'the idle client to be dismissed after its answer');
    expect(client.text).toBe(`${JSON.stringify({ echo: 'slow' })}\nREFUSED IDLE_TIMEOUT\n`);
  });
});
