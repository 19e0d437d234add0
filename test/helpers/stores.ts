/**
 * The index stores a contract test runs against: the in-memory registry, and the Redis store on
 * a real redis-server started for the file (free port, no persistence, stopped by its PID).
 * Each store made gets its own key prefix, so tests sharing one redis-server never meet.
 */
import { randomUUID } from 'node:crypto';
import type { IndexBudgets } from '../../server/index-budgets.ts';
import type { IndexStore } from '../../server/store/index-store.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { RedisStore } from '../../server/store/redis-store.ts';
import { ensureRedisInstalled, RedisServer } from './redis-server.ts';

export interface StoreKind {
  name: string;
  make: (budgets?: Partial<IndexBudgets>) => Promise<IndexStore>;
}

/** Why redis-server cannot run here, or undefined when it can (installed with apt when missing). */
export const redisMissing = ensureRedisInstalled();
if (redisMissing) console.warn(`Redis store tests skipped: ${redisMissing}`);

/** Starts one redis-server for the calling file; `stop` stops it and every store made. */
export function storeKinds(): { kinds: StoreKind[]; start: () => Promise<void>; stop: () => Promise<void> } {
  let redis: RedisServer | undefined;
  const opened: IndexStore[] = [];
  const keep = async (store: IndexStore) => {
    opened.push(store);
    return store;
  };
  const kinds: StoreKind[] = [{ name: 'memory', make: async (budgets) => keep(new MemoryStore(budgets)) }];
  if (!redisMissing)
    kinds.push({
      name: 'redis',
      make: async (budgets) => {
        if (redis === undefined) throw new Error('redis-server was not started (call start in beforeAll)');
        return keep(
          await RedisStore.open({
            location: { host: '127.0.0.1', port: redis.port, db: 0 },
            prefix: `t${randomUUID().slice(0, 8)}:`,
            ...budgets,
          }),
        );
      },
    });
  return {
    kinds,
    start: async () => {
      if (!redisMissing) redis = await RedisServer.start();
    },
    stop: async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await redis?.stop();
    },
  };
}
