/**
 * The index server's connections to Redis (ioredis): one for the scripts, one subscribed to the
 * servers' push channel. Commands never wait for a lost connection (no offline queue) and never
 * wait long (COMMAND_TIMEOUT_MS): while Redis is unreachable every request fails at once with
 * STORE_UNAVAILABLE, and the connection is retried in the background.
 */
import { Redis } from 'ioredis';
import { NapError } from '../../shared/errors.ts';
import type { Log } from '../../shared/log.ts';
import { SCRIPTS, type ScriptName, scriptSource } from './redis-scripts.ts';
import { formatStoreUrl, type RedisLocation } from './store-url.ts';

/**
 * How long one command may take before it counts as failed: Redis answers in well under a
 * millisecond; seconds mean it is stuck or unreachable, and the client is told so.
 */
export const COMMAND_TIMEOUT_MS = 2000;
/** How long the first connection may take when the server starts. */
export const CONNECT_TIMEOUT_MS = 5000;
/** Longest pause between attempts to reach a lost Redis: it is back within this once it is up. */
export const RECONNECT_MAX_MS = 1000;

export class RedisLink {
  readonly where: string;
  private readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly scripts: Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

  constructor(
    location: RedisLocation,
    readonly channel: string,
    private readonly log: Log,
  ) {
    this.where = formatStoreUrl(location);
    this.client = new Redis({
      host: location.host,
      port: location.port,
      db: location.db,
      lazyConnect: true,
      enableOfflineQueue: false,
      // A change sent twice after a reconnect could apply twice: the store resynchronises instead.
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 100, RECONNECT_MAX_MS),
      // Commands issued in one turn of the event loop go out in one write: with many connections
      // SEARCHing at once, a write and a read per batch instead of per request, on both sides.
      enableAutoPipelining: true,
    });
    this.subscriber = this.client.duplicate();
    for (const connection of [this.client, this.subscriber])
      connection.on('error', (error: Error) => this.log(`redis ${this.where}: ${error.message}`));
    for (const name of Object.keys(SCRIPTS) as ScriptName[])
      this.client.defineCommand(name, { numberOfKeys: 0, lua: scriptSource(name) });
    this.scripts = this.client as unknown as typeof this.scripts;
  }

  /** Connects both; rejects with STORE_UNAVAILABLE when Redis cannot be reached. */
  async open(onPush: (message: string) => void): Promise<void> {
    try {
      await this.client.connect();
      await this.subscriber.connect();
      this.subscriber.on('message', (_channel: string, message: string) => onPush(message));
      await this.subscriber.subscribe(this.channel);
    } catch (error) {
      this.client.disconnect();
      this.subscriber.disconnect();
      throw this.unavailable(error);
    }
  }

  /** Runs `listener` each time the connection is ready again after it was lost. */
  onReconnect(listener: () => void): void {
    this.client.on('ready', listener);
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Runs one script; any failure to reach Redis is STORE_UNAVAILABLE. */
  async run(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    if (!this.ready) throw this.unavailable();
    try {
      return await this.scripts[name](...args);
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  /** Every member of the sorted set `key`, in order (one plain command: SEARCH's read). */
  async members(key: string): Promise<string[]> {
    if (!this.ready) throw this.unavailable();
    try {
      return await this.client.zrange(key, 0, -1);
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  /** Publishes `message` to the other servers; a lost one is only logged (chat is best effort). */
  publish(message: string): void {
    if (!this.ready) return;
    this.client.publish(this.channel, message).catch((error: Error) => this.log(`publish: ${error.message}`));
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.client.quit(), this.subscriber.quit()]);
    this.client.disconnect();
    this.subscriber.disconnect();
  }

  unavailable(cause?: unknown): NapError {
    if (cause instanceof NapError) return cause;
    if (cause instanceof Error) this.log(`redis ${this.where}: ${cause.message}`);
    return new NapError(
      'STORE_UNAVAILABLE',
      `The index store (Redis at ${this.where}) cannot be reached right now; try again in a few seconds.`,
      { cause },
    );
  }
}
