/**
 * When part of a shared index fails: a SIGKILLed server's peers vanish from every other server
 * within 15 s (its liveness key's TTL) and its members are told; a peer given `--server A,B`
 * fails over to B and JOINs there; Redis restarted: STORE_UNAVAILABLE meanwhile, then every
 * server writes its peers back, with no peer doing anything.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/processes.ts';
import { IndexClient } from '../../peer/index-client.ts';
import { DEFAULT_KEY_PREFIX } from '../../server/store/redis-store.ts';
import { SERVER_TTL_MS } from '../../server/store/redis-upkeep.ts';
import { serverJoinLine } from '../../shared/messages.ts';
import { killAll, runCli, startServer } from '../helpers/cli.ts';
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
import { waitUntil } from '../helpers/wait.ts';

/** How long a killed server's peers may stay in the index: napshare's promise. */
const STALE_BOUND_MS = 15_000;
const at = (port: number) => `127.0.0.1:${port}`;
let redis: RedisServer;
const servers: SharedServer[] = [];
const clients: LineClient[] = [];

describe.skipIf(redisMissing !== undefined)('a shared index when a part fails', () => {
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(servers.splice(0).map((server) => server.close()));
    await killAll();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a SIGKILLed server: its peers vanish within 15 s, members hear it, a --server A,B peer re-joins at B', async () => {
    expect(SERVER_TTL_MS).toBeLessThan(STALE_BOUND_MS);
    // Server A is its own process (the CLI, --store): SIGKILL leaves it no word to say. It uses
    // database 1 and napshare's own prefix, which no other test of this file uses.
    const { server: cliA, port: portA } = await startServer(['--store', `${redis.url}/1`]);
    const b = await sharedServer(redis, DEFAULT_KEY_PREFIX, {}, 1);
    servers.push(b);
    const doomed = await joinedClient({ port: portA }, 7201, ['only-at-a.mp4'], 'ana');
    clients.push(doomed);
    const failover = await IndexClient.connect('127.0.0.1', portA, {
      fallbacks: [{ host: '127.0.0.1', port: b.port }],
      heartbeat: false,
      reconnectMaxMs: 1000,
    });
    await failover.join('127.0.0.1', 7202, ['moving.mp4']);
    const watcher = await joinedClient(b, 7203, [], 'bob');
    clients.push(watcher);
    expect(await searched(watcher, 'only-at-a.mp4')).toEqual([at(7201)]);
    const rejoined = new Promise<number>((resolve) =>
      failover.once('rejoined', () => resolve(performance.now())),
    );
    const killedAt = performance.now();
    cliA.kill('SIGKILL');
    await waitUntil(
      async () => ((await searched(watcher, 'only-at-a.mp4')) as string[]).length === 0,
      "the killed server's peer to vanish from SEARCH at the other server",
      STALE_BOUND_MS + 5000,
    );
    expect(performance.now() - killedAt).toBeLessThanOrEqual(STALE_BOUND_MS);
    // The reap tells the members: Ana is gone (she had no word to say).
    const left = await waitFor(watcher, (m) => m.type === 'PEER_LEFT' && m.address === at(7201));
    expect(left).toEqual({ type: 'PEER_LEFT', address: at(7201), alias: 'ana', reason: 'timeout' });
    // The peer given both servers is at B now, with its files, and B answers it.
    expect((await rejoined) - killedAt).toBeLessThanOrEqual(STALE_BOUND_MS + 5000);
    expect(await searched(watcher, 'moving.mp4')).toEqual([at(7202)]);
    expect(await failover.search('moving.mp4')).toEqual([at(7202)]);
    expect(b.printed).toContain(serverJoinLine(at(7202), ['moving.mp4']));
    failover.close();
  });

  it('Redis restarted: STORE_UNAVAILABLE meanwhile, then every server refills its peers', async () => {
    const own = await RedisServer.start();
    try {
      const prefix = newIndexPrefix();
      const make = async () => {
        const shared = await sharedServer(own, prefix);
        servers.push(shared);
        return shared;
      };
      const a = await make();
      const b = await make();
      const atA = await joinedClient(a, 7301, ['kept.mp4'], 'ana');
      const atB = await joinedClient(b, 7302, ['also.mp4']);
      clients.push(atA, atB);
      expect(await searched(atB, 'kept.mp4')).toEqual([at(7301)]);
      const printedBefore = b.printed.length;
      await own.stop();
      // Meanwhile: a clear refusal, not a hang and not a wrong answer; no contract line printed.
      expect(await atB.request({ type: 'SEARCH', file: 'kept.mp4' })).toMatchObject({
        type: 'ERROR',
        code: 'STORE_UNAVAILABLE',
      });
      expect(await atA.request({ type: 'UPDATE', file: 'x' })).toMatchObject({
        type: 'ERROR',
        code: 'STORE_UNAVAILABLE',
      });
      expect(b.printed).toHaveLength(printedBefore);
      // Back, empty (no persistence): the servers write their peers back by themselves.
      const again = await RedisServer.start(own.port);
      try {
        await waitUntil(
          async () => JSON.stringify(await searched(atB, 'kept.mp4')) === JSON.stringify([at(7301)]),
          "server A's peer to be back in the index after Redis restarted",
          20_000,
        );
        expect(await searched(atA, 'also.mp4')).toEqual([at(7302)]);
        // Join order after a refill is the order the servers wrote their peers back in.
        const listed = (await atA.request({ type: 'LIST' })).peers as { address: string }[];
        expect(listed.sort((x, y) => x.address.localeCompare(y.address))).toEqual([
          { address: at(7301), fileCount: 1, alias: 'ana' },
          { address: at(7302), fileCount: 1 },
        ]);
        // The address is still held after the refill: no takeover through the other server.
        const intruder = await joinedClient(b, 7303, []);
        clients.push(intruder);
        expect(
          await intruder.request({ type: 'JOIN', ip: '127.0.0.1', port: 7301, files: [] }),
        ).toMatchObject({
          code: 'ADDRESS_IN_USE',
        });
      } finally {
        for (const server of servers.splice(0)) await server.close();
        await again.stop();
      }
    } finally {
      await own.stop();
    }
  });
});

describe('--store at a Redis that is not there', () => {
  it('the server says so in one sentence on stderr and exits 1, printing nothing on stdout', async () => {
    const port = await freePort();
    const cli = runCli('server', [
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--store',
      `redis://127.0.0.1:${port}`,
    ]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr).toEqual([
      `napshare server: The index store (Redis at redis://127.0.0.1:${port}/0) cannot be reached right now; try again in a few seconds.`,
    ]);
    expect(cli.stdout).toEqual([]);
  });
});

/** The first line of `client` (from its first) that `test` accepts, waited for. */
async function waitFor(client: LineClient, test: (message: Record<string, unknown>) => boolean) {
  for (let index = 0; ; index++) {
    const message = JSON.parse(await client.line(index)) as Record<string, unknown>;
    if (test(message)) return message;
  }
}
