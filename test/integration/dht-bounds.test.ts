/**
 * The DHT node's bounds on real nodes on 127.0.0.1: holders kept per lookup (--max-results) and
 * lookups at once (--max-lookups, over it a clear BUSY refusal), then served again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DhtNode } from '../../peer/dht/dht-node.ts';
import { dhtKey } from '../../peer/dht/keys.ts';
import { removeTempDirs } from '../helpers/files.ts';
import { startNetwork } from './dht-helpers.ts';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close()));
  await removeTempDirs();
});

async function node(options: Partial<Parameters<typeof DhtNode.start>[0]> = {}): Promise<DhtNode> {
  const started = await DhtNode.start({
    host: '127.0.0.1',
    port: 0,
    bootstrap: { kind: 'none' },
    ...options,
  });
  opened.push(started);
  await started.ready;
  return started;
}

describe('DHT bounds', () => {
  it('keeps at most --max-results holders per lookup', async () => {
    const key = dhtKey('popular.iso');
    const store = await node({ maxResults: 3 });
    const announcer = await node({
      bootstrap: { kind: 'nodes', nodes: [{ host: '127.0.0.1', port: store.port }] },
    });
    for (const port of [7001, 7002, 7003, 7004, 7005]) await announcer.announce(key, port);
    const found = await store.lookup(key);
    expect(found).toHaveLength(3);
    for (const holder of found) expect([7001, 7002, 7003, 7004, 7005]).toContain(holder.port);
    // The bound is per node: with the default, all five.
    expect(await announcer.lookup(key)).toHaveLength(5);
  });

  it('refuses a lookup past --max-lookups with BUSY, and serves the next one', async () => {
    const lonely = await node({ maxLookups: 2 });
    const key = dhtKey('x');
    const running = [lonely.lookup(key), lonely.lookup(key)];
    await expect(lonely.lookup(key)).rejects.toMatchObject({
      code: 'BUSY',
      message: 'Too many searches at once (--max-lookups 2); try again in a moment.',
    });
    await Promise.all(running);
    await expect(lonely.lookup(key)).resolves.toEqual([]);
  });

  it('answers a search refused that way with one line on the control socket', async () => {
    const [daemon] = await startNetwork(1, { maxLookups: 1 });
    opened.push(daemon as { close(): Promise<void> });
    // "search Redes" looks up "Redes" and "redes": two lookups, one over the bound.
    expect((await daemon?.run('search Redes'))?.lines).toEqual([
      'Too many searches at once (--max-lookups 1); try again in a moment.',
    ]);
    expect((await daemon?.run('search redes'))?.lines).toEqual(['Cannot find redes']);
  });
});
