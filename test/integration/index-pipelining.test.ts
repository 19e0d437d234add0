/**
 * Pipelining at the index server: replies made at once go out corked together, changes wait for
 * the mutex, and the console prints its lines once per turn. Whatever a client pipelines, every
 * request gets its reply in order, a SEARCH sees the changes asked for before it, and the server
 * prints one line per JOIN and SEARCH, in the order it answered them, none lost (the real CLI).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IndexServer } from '../../server/index-server.ts';
import { killAll, startServer } from '../helpers/cli.ts';
import { LineClient } from '../helpers/line-client.ts';

const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await killAll();
});

async function client(port: number, localAddress?: string): Promise<LineClient> {
  const c = await LineClient.connect(port, '127.0.0.1', localAddress);
  closers.push(() => c.close());
  return c;
}

const line = (message: object) => `${JSON.stringify(message)}\n`;

describe('index server, pipelined requests', () => {
  it('big replies among small ones are all answered, in order, under a small unread bound', async () => {
    // 300 holders make a SEARCH_OK of about 5.6 KB: more than the 4 KiB a client may leave unread.
    const server = await IndexServer.start({
      host: '127.0.0.1',
      port: 0,
      print: () => {},
      maxPeers: 400,
      limits: { maxUnreadBytes: 4096 },
    });
    closers.push(() => server.close());
    const port = server.address().port;
    for (let i = 0; i < 300; i++) await server.registry.join(-1 - i, '127.0.0.1', 2000 + i, ['big.mp4']);
    const a = await client(port);
    expect(await a.request({ type: 'JOIN', ip: '127.0.0.1', port: 9000, files: ['small.mp4'] })).toEqual({
      type: 'JOIN_OK',
    });
    const requests = Array.from({ length: 200 }, (_, i) => (i % 3 === 2 ? 'big.mp4' : 'small.mp4'));
    a.send(requests.map((file) => line({ type: 'SEARCH', file })).join(''));
    const replies = await Promise.all(requests.map((_, i) => a.json(i + 1)));
    replies.forEach((reply, i) => {
      expect(reply.type).toBe('SEARCH_OK');
      expect((reply.peers as string[]).length).toBe(requests[i] === 'big.mp4' ? 300 : 1);
    });
    expect(a.socket.destroyed).toBe(false);
  });

  it('a SEARCH pipelined after an UPDATE sees it; replies keep request order across kinds', async () => {
    const server = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
    closers.push(() => server.close());
    const a = await client(server.address().port);
    const lines = [line({ type: 'JOIN', ip: '127.0.0.1', port: 9100, files: [] })];
    const expected: object[] = [{ type: 'JOIN_OK' }];
    for (let i = 0; i < 300; i++) {
      const file = `f${i}.mp4`;
      lines.push(
        line({ type: 'SEARCH', file }),
        line({ type: 'UPDATE', file }),
        line({ type: 'SEARCH', file }),
      );
      expected.push(
        { type: 'SEARCH_OK', peers: [] },
        { type: 'UPDATE_OK' },
        { type: 'SEARCH_OK', peers: ['127.0.0.1:9100'] },
      );
      if (i % 50 === 0) {
        lines.push(line({ type: 'PING' }), line({ type: 'QUERY', file }));
        expected.push(
          { type: 'PONG', timeoutMs: 45_000 },
          { type: 'QUERY_OK', file, peers: [{ address: '127.0.0.1:9100' }] },
        );
      }
    }
    // In pieces that cut lines anywhere, as TCP may.
    const bytes = Buffer.from(lines.join(''));
    for (let at = 0; at < bytes.length; at += 1000) a.send(bytes.subarray(at, at + 1000));
    expect(await Promise.all(expected.map((_, i) => a.json(i)))).toEqual(expected);
  });

  it('the CLI prints every JOIN and SEARCH line, in the order answered, none lost', async () => {
    const { server, port } = await startServer();
    const clients = await Promise.all(Array.from({ length: 8 }, (_, i) => client(port, `127.0.${10 + i}.1`)));
    const searches = 500;
    const expectedOf = clients.map((_, i) => {
      const address = `127.0.${10 + i}.1:7000`;
      return [
        `Peer ${address} adicionado com arquivos own${i}.mp4 shared.mp4`,
        ...Array.from({ length: searches }, (_, k) => `Peer ${address} solicitou arquivo q${i}-${k}.mp4`),
      ];
    });
    clients.forEach((c, i) => {
      const requests = [
        line({ type: 'JOIN', ip: `127.0.${10 + i}.1`, port: 7000, files: [`own${i}.mp4`, 'shared.mp4'] }),
      ];
      for (let k = 0; k < searches; k++) requests.push(line({ type: 'SEARCH', file: `q${i}-${k}.mp4` }));
      c.send(requests.join(''));
    });
    await Promise.all(clients.map((c) => c.line(searches)));
    // The lines are all out once the replies are: at most a turn later, and the process flushes
    // what is left when it stops.
    server.kill('SIGINT');
    await server.exited;
    const printed = server.stdout;
    expect(printed).toHaveLength(clients.length * (searches + 1));
    // Per connection, its lines in the order it sent its requests; interleaved across connections
    // as the server answered them.
    clients.forEach((_, i) => {
      const mine = printed.filter((text) => text.includes(`127.0.${10 + i}.1:7000 `));
      expect(mine).toEqual(expectedOf[i]);
    });
  });
  it('across connections, a line answered after another was replied to is printed after it', async () => {
    const { server, port } = await startServer();
    const clients = await Promise.all(Array.from({ length: 3 }, (_, i) => client(port, `127.0.${20 + i}.1`)));
    const expected: string[] = [];
    // Each request is sent once the previous one (on another connection) has its reply: a JOIN
    // (answered after the mutex) and SEARCHes (answered at once) alternate between connections.
    for (let k = 0; k < 300; k++) {
      const i = k % clients.length;
      const c = clients[i] as LineClient;
      const address = `127.0.${20 + i}.1:7000`;
      if (k % 50 < clients.length) {
        expect(
          await c.request({ type: 'JOIN', ip: `127.0.${20 + i}.1`, port: 7000, files: [`r${k}.mp4`] }),
        ).toEqual({
          type: 'JOIN_OK',
        });
        expected.push(`Peer ${address} adicionado com arquivos r${k}.mp4`);
      } else {
        expect((await c.request({ type: 'SEARCH', file: `s${k}.mp4` })).type).toBe('SEARCH_OK');
        expected.push(`Peer ${address} solicitou arquivo s${k}.mp4`);
      }
    }
    server.kill('SIGINT');
    await server.exited;
    expect(server.stdout).toEqual(expected);
  });
});
