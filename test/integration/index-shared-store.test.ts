/**
 * Several index servers on one real redis-server (`--store`) are one index: SEARCH across
 * servers, UPDATE seen at all, LIST/QUERY across, chat relayed across (never back to the
 * sender), every server printing exactly its own contract lines; a closed connection's entries
 * leave at once; concurrent JOINs, UPDATEs through three servers keep the budgets and the
 * no-takeover rule; Redis restarted: STORE_UNAVAILABLE meanwhile, the index refilled after.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serverJoinLine, serverSearchLine } from '../../shared/messages.ts';
import type { LineClient } from '../helpers/line-client.ts';
import { RedisServer } from '../helpers/redis-server.ts';
import {
  joinedClient,
  newIndexPrefix,
  type SharedServer,
  searched,
  sharedServer,
} from '../helpers/shared-index.ts';
import { redisMissing } from '../helpers/stores.ts';

const at = (port: number) => `127.0.0.1:${port}`;
let redis: RedisServer;
const servers: SharedServer[] = [];
const clients: LineClient[] = [];

async function start(count: number, budgets = {}): Promise<SharedServer[]> {
  const prefix = newIndexPrefix();
  const started = await Promise.all(
    Array.from({ length: count }, () => sharedServer(redis, prefix, budgets)),
  );
  servers.push(...started);
  return started;
}

async function client(server: SharedServer, port: number, files: string[], alias?: string) {
  const joined = await joinedClient(server, port, files, alias);
  clients.push(joined);
  return joined;
}

/** The next line of `client` after `from` that `test` accepts, waited for. */
async function lineMatching(
  client: LineClient,
  from: number,
  test: (message: Record<string, unknown>) => boolean,
) {
  for (let index = from; ; index++) {
    const message = JSON.parse(await client.line(index)) as Record<string, unknown>;
    if (test(message)) return message;
  }
}

describe.skipIf(redisMissing !== undefined)('index servers sharing one Redis', () => {
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('two servers: SEARCH, UPDATE, LIST and QUERY across; each prints exactly its own lines', async () => {
    const [a, b] = (await start(2)) as [SharedServer, SharedServer];
    const atA = await client(a, 7001, ['aula.mp4', 'both.mp4'], 'ana');
    const atB = await client(b, 7002, ['both.mp4'], 'bob');
    expect(await searched(atB, 'aula.mp4')).toEqual([at(7001)]);
    expect(await searched(atA, 'both.mp4')).toEqual([at(7001), at(7002)]);
    expect((await atB.request({ type: 'UPDATE', file: 'new.mp4' })).type).toBe('UPDATE_OK');
    expect(await searched(atA, 'new.mp4')).toEqual([at(7002)]);
    expect(await atA.request({ type: 'LIST' })).toEqual({
      type: 'LIST_OK',
      peers: [
        { address: at(7001), fileCount: 2, alias: 'ana' },
        { address: at(7002), fileCount: 2, alias: 'bob' },
      ],
    });
    expect(await atB.request({ type: 'QUERY', file: 'both.mp4' })).toEqual({
      type: 'QUERY_OK',
      file: 'both.mp4',
      peers: [
        { address: at(7001), alias: 'ana' },
        { address: at(7002), alias: 'bob' },
      ],
    });
    expect(a.printed).toEqual([
      serverJoinLine(at(7001), ['aula.mp4', 'both.mp4']),
      serverSearchLine(at(7001), 'both.mp4'),
      serverSearchLine(at(7001), 'new.mp4'),
    ]);
    expect(b.printed).toEqual([
      serverJoinLine(at(7002), ['both.mp4']),
      serverSearchLine(at(7002), 'aula.mp4'),
    ]);
    // The address and the alias are held across servers: no takeover from the other one.
    const intruder = await joinedClient(b, 7003, []);
    clients.push(intruder);
    expect(await intruder.request({ type: 'JOIN', ip: '127.0.0.1', port: 7001, files: [] })).toMatchObject({
      type: 'ERROR',
      code: 'ADDRESS_IN_USE',
    });
    expect(await intruder.request({ type: 'ALIAS', alias: 'ANA' })).toMatchObject({
      type: 'ERROR',
      code: 'ALIAS_TAKEN',
    });
    // A closed connection's entries leave at once, and the other server's members hear of it.
    const before = atB.lines.length;
    atA.close();
    expect(await lineMatching(atB, before, (m) => m.type === 'PEER_LEFT')).toEqual({
      type: 'PEER_LEFT',
      address: at(7001),
      alias: 'ana',
      reason: 'closed',
    });
    expect(await searched(atB, 'aula.mp4')).toEqual([]);
  });

  it('three servers: chat reaches every other member on every server, never the sender', async () => {
    const [a, b, c] = (await start(3)) as [SharedServer, SharedServer, SharedServer];
    const ana = await client(a, 7101, [], 'ana');
    const bob = await client(b, 7102, [], 'bob');
    const course = await client(b, 7103, []); // no alias: no chat
    const cid = await client(c, 7104, [], 'cid');
    const cidBefore = cid.lines.length;
    expect(await cid.request({ type: 'CHAT', text: 'hello' })).toEqual({ type: 'CHAT_OK', delivered: 2 });
    const hello = { type: 'CHAT', alias: 'cid', from: at(7104), text: 'hello' };
    expect(await lineMatching(ana, 1, (m) => m.type === 'CHAT')).toEqual(hello);
    expect(await lineMatching(bob, 1, (m) => m.type === 'CHAT')).toEqual(hello);
    // Ana answers once she has it: pub/sub delivers in publish order, so by the time Cid gets her
    // message his own has passed his server, which must not have pushed it to him.
    expect((await ana.request({ type: 'CHAT', text: 'hi cid' })).type).toBe('CHAT_OK');
    expect(await lineMatching(cid, cidBefore + 1, (m) => m.type === 'CHAT')).toMatchObject({ alias: 'ana' });
    expect(cid.lines.map((line) => JSON.parse(line).type)).toEqual(['JOIN_OK', 'CHAT_OK', 'CHAT']);
    expect(course.lines.some((line) => line.includes('"CHAT"'))).toBe(false);
  });

  it('concurrent JOINs and UPDATEs through three servers: one holder per address, budgets exact', async () => {
    const three = await start(3, { maxPeers: 12, maxEntries: 20 });
    // 36 JOINs at once, 12 a server, for 12 places.
    const attempts = await Promise.all(
      Array.from({ length: 36 }, async (_, i) => {
        const server = three[i % 3] as SharedServer;
        const joined = await joinedClient(server, 8000 + i, ['shared.mp4']).catch(() => undefined);
        if (joined) clients.push(joined);
        return joined;
      }),
    );
    const joined = attempts.filter((c): c is LineClient => c !== undefined);
    expect(joined).toHaveLength(12);
    for (const server of three) {
      const asker = joined[three.indexOf(server)] as LineClient;
      expect(((await searched(asker, 'shared.mp4')) as string[]).length).toBe(12);
    }
    // 12 entries held; 12 peers x 2 new names each at once, through all three: 8 fit.
    // (Each client's two one after the other: a LineClient reads replies in order.)
    const updates = (
      await Promise.all(
        joined.map(async (peer, i) => [
          await peer.request({ type: 'UPDATE', file: `u${i}a` }),
          await peer.request({ type: 'UPDATE', file: `u${i}b` }),
        ]),
      )
    ).flat();
    expect(updates.filter((reply) => reply.type === 'UPDATE_OK')).toHaveLength(8);
    expect(updates.filter((reply) => reply.code === 'INDEX_FULL')).toHaveLength(16);
    expect(await three[0]?.store.counts()).toEqual({ peers: 12, entries: 20 });
  });

  it('concurrent JOINs of one address through three servers: exactly one gets it', async () => {
    const three = await start(3);
    for (let round = 0; round < 5; round++) {
      const port = 9000 + round;
      const tries = await Promise.all(
        three.map(async (server) => {
          const joined = await joinedClient(server, port, [`r${round}`]).catch((error: Error) => error);
          if (!(joined instanceof Error)) clients.push(joined);
          return joined;
        }),
      );
      const winners = tries.filter((t) => !(t instanceof Error));
      expect(winners).toHaveLength(1);
      for (const loser of tries.filter((t) => t instanceof Error))
        expect(String(loser)).toContain('ADDRESS_IN_USE');
      expect(await searched(winners[0] as LineClient, `r${round}`)).toEqual([at(port)]);
    }
  });
});
