/**
 * What keeps a server's part of the shared index true (docs/scaling.md, "Liveness"):
 * - every REFRESH_INTERVAL_MS it renews its liveness key (TTL SERVER_TTL_MS); a server killed
 *   with SIGKILL stops, its key expires, reads skip its peers at once and the first server to
 *   notice reaps them (in batches of REAP_BATCH), telling every member they left;
 * - when Redis was restarted (empty), or this server's key was gone (it was thought dead), or a
 *   change could not be told to Redis, it refills: drops whatever Redis has of its own, then
 *   writes every entry of its connections back. Changes wait while it does (`guard`).
 */
import type { ConnectionId, PeerEntry } from '../registry.ts';
import type { RemotePush } from './index-store.ts';
import type { RedisLink } from './redis-link.ts';
import type { ScriptName } from './redis-scripts.ts';

/** What the upkeep needs of the Redis store (redis-store.ts). */
export interface UpkeepHost {
  readonly id: string;
  readonly link: RedisLink;
  run(name: ScriptName, ...args: (string | number)[]): Promise<unknown>;
  ownEntries(): PeerEntry[];
  insert(entry: PeerEntry, previous: string): Promise<void>;
  forget(connection: ConnectionId): void;
  announce(push: RemotePush): void;
  broadcast(push: RemotePush): void;
  allCounts(): Promise<unknown>;
  setDead(ids: readonly string[]): void;
}

/**
 * A server's liveness TTL: its peers vanish from every read this long after it died. 15 s at
 * most is asked of napshare; 10 s leaves room for a reap and a busy machine.
 */
export const SERVER_TTL_MS = 10_000;
/** Renewals per TTL: a server stalled for most of a TTL (a long GC, a loaded host) keeps its peers. */
const RENEWALS_PER_TTL = 10;
/** Peers one reap script drops: a dead server of 10,000 peers never holds Redis for long. */
export const REAP_BATCH = 200;

export class RedisUpkeep {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopped = false;
  private dirty = false;
  // Set while a refill runs: changes wait for it.
  private refilling: Promise<void> | undefined;
  private inFlight = 0;
  private idle: (() => void) | undefined;

  constructor(
    private readonly store: UpkeepHost,
    readonly ttlMs = SERVER_TTL_MS,
  ) {}

  async start(): Promise<void> {
    await this.store.run('nsRegister', this.store.id, this.ttlMs);
    // After a reconnect, Redis may have restarted empty, or dropped this server meanwhile.
    this.store.link.onReconnect(() => this.resyncSoon());
    this.timer = setInterval(() => void this.tick(), Math.max(50, this.ttlMs / RENEWALS_PER_TTL));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.refilling;
    // A server that stops in order takes its peers with it at once, not a TTL later.
    try {
      await this.reapAll(this.store.id, true);
      await this.store.run('nsRegister', this.store.id, 1);
    } catch {
      // Redis is gone: the TTL ends this server's peers.
    }
  }

  /** Refill at the next renewal (Redis could not be told of a change). */
  resyncSoon(): void {
    this.dirty = true;
    if (!this.stopped) setImmediate(() => void this.tick());
  }

  /** Runs one change, after any refill in progress; a refill waits for changes in flight. */
  async guard<T>(job: () => Promise<T>): Promise<T> {
    while (this.refilling) await this.refilling;
    this.inFlight++;
    try {
      return await job();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.idle?.();
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped || !this.store.link.ready) return;
    this.ticking = true;
    try {
      const kept = (await this.store.run('nsRefresh', this.store.id, this.ttlMs)) === 1;
      if (!kept || this.dirty) await this.refill();
      const dead = (await this.store.run('nsDead')) as string[];
      this.store.setDead(dead);
      for (const id of dead) await this.reapAll(id, false);
      await this.store.allCounts();
    } catch {
      // Unreachable: the next renewal tries again, and refills once it can.
      this.dirty = true;
    } finally {
      this.ticking = false;
    }
  }

  // Drops every peer of server `id` (dead, or this one refilling), batch by batch.
  private async reapAll(id: string, force: boolean): Promise<void> {
    for (;;) {
      const [state, ...dropped] = (await this.store.run(
        'nsReap',
        id,
        REAP_BATCH,
        force ? '1' : '0',
      )) as string[];
      if (!force)
        for (let i = 0; i < dropped.length; i += 2) {
          const push = {
            type: 'PEER_LEFT' as const,
            address: dropped[i] as string,
            reason: 'timeout' as const,
            ...(dropped[i + 1] ? { alias: dropped[i + 1] as string } : {}),
          };
          this.store.announce(push);
          this.store.broadcast(push);
        }
      if (state !== 'MORE') return;
    }
  }

  // Writes this server's entries back: what Redis has of them goes first, so none is doubled.
  private async refill(): Promise<void> {
    if (this.refilling) return this.refilling;
    this.refilling = (async () => {
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
      this.idle = undefined;
      this.dirty = false;
      try {
        await this.store.run('nsRegister', this.store.id, this.ttlMs);
        await this.reapAll(this.store.id, true);
        const lost: ConnectionId[] = [];
        for (const entry of this.store.ownEntries()) {
          try {
            await this.store.insert(entry, '');
          } catch (error) {
            if ((error as { code?: string }).code === 'STORE_UNAVAILABLE') throw error;
            // Taken meanwhile by a peer of another server: this one must JOIN again (NOT_JOINED).
            lost.push(entry.connection);
          }
        }
        for (const connection of lost) this.store.forget(connection);
      } catch {
        this.dirty = true;
      }
    })();
    try {
      await this.refilling;
    } finally {
      this.refilling = undefined;
    }
  }
}
