/**
 * Index servers sharing one real redis-server (`--store`), in this process: each prints into its
 * own list, so a test sees exactly which contract lines each server printed.
 */
import { randomUUID } from 'node:crypto';
import type { IndexBudgets } from '../../server/index-budgets.ts';
import { IndexServer } from '../../server/index-server.ts';
import { RedisStore } from '../../server/store/redis-store.ts';
import { LineClient } from './line-client.ts';
import type { RedisServer } from './redis-server.ts';

export interface SharedServer {
  server: IndexServer;
  store: RedisStore;
  port: number;
  printed: string[];
  close: () => Promise<void>;
}

/** A fresh key prefix: one index per test, however many share the redis-server. */
export function newIndexPrefix(): string {
  return `t${randomUUID().slice(0, 8)}:`;
}

export async function sharedServer(
  redis: RedisServer,
  prefix: string,
  budgets: Partial<IndexBudgets> = {},
  db = 0,
): Promise<SharedServer> {
  const printed: string[] = [];
  const store = await RedisStore.open({
    location: { host: '127.0.0.1', port: redis.port, db },
    prefix,
    ...budgets,
  });
  const server = await IndexServer.start({
    host: '127.0.0.1',
    port: 0,
    print: (line) => printed.push(line),
    store,
    ...budgets,
  });
  return {
    server,
    store,
    port: server.address().port,
    printed,
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}

/** A client on `server` JOINed as 127.0.0.1:`port`; resolves once JOIN_OK came. */
export async function joinedClient(
  server: { port: number },
  port: number,
  files: string[],
  alias?: string,
): Promise<LineClient> {
  const client = await LineClient.connect(server.port);
  const reply = await client.request({
    type: 'JOIN',
    ip: '127.0.0.1',
    port,
    files,
    ...(alias ? { alias } : {}),
  });
  if (reply.type !== 'JOIN_OK') throw new Error(`JOIN as ${port} was refused: ${JSON.stringify(reply)}`);
  return client;
}

/** The addresses a SEARCH through `client` lists. */
export async function searched(client: LineClient, file: string): Promise<unknown> {
  const reply = await client.request({ type: 'SEARCH', file });
  return reply.type === 'SEARCH_OK' ? reply.peers : reply;
}
