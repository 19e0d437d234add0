/**
 * Publishing (seed 000, 18-20): announces every published file under the SHA-1 of its name and of
 * each of its words, re-announces them periodically so they never expire while the daemon runs,
 * and waits for a first DHT node when none is known yet. `clean` is the seed's remove: the
 * Mainline DHT has no delete, so it stops announcing and forgets the files; other nodes drop their
 * entries when these expire (their peer max age, DEFAULT_PEER_MAX_AGE_MS for napshare nodes).
 */
import { describeError } from '../../shared/errors.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import type { DhtNode } from './dht-node.ts';
import { announcedTexts, dhtKey } from './keys.ts';
import { mapWithLimit } from './pool.ts';
import type { PublishedCatalog, PublishedFile } from './published-catalog.ts';

/**
 * Re-announce period. napshare nodes keep an entry 2/3 to 4/3 of their peer max age (30 min by
 * default, so at least 20 min): announcing every 10 min keeps every entry alive with a margin.
 */
export const DEFAULT_ANNOUNCE_INTERVAL_MS = 10 * 60_000;
/** Announces in flight at once: each is a lookup plus announce_peer to up to 20 nodes. */
const ANNOUNCE_CONCURRENCY = 8;

export interface PublishOutcome {
  /** Files added to the catalog. */
  files: number;
  /** Keys whose announce no node took (retried at the next re-announce). */
  failed: number;
  /** True when no DHT node is known yet: the announces wait for the first one. */
  waiting: boolean;
}

export interface PublisherOptions {
  /** The file server's TCP port: what the DHT stores for each key. */
  filePort: number;
  announceIntervalMs?: number;
  log?: Log;
}

export class Publisher {
  /** Keys announced (hex to key bytes): names and words of every published file. */
  private readonly keys = new Map<string, Buffer>();
  private readonly timer: NodeJS.Timeout;
  private readonly log: Log;
  private waitingForNode = false;
  /** A full re-announce is running: the next tick skips rather than piling cycles up. */
  private reannouncing = false;
  private cycles = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly node: DhtNode,
    readonly catalog: PublishedCatalog,
    private readonly options: PublisherOptions,
  ) {
    this.log = options.log ?? silentLog;
    // Periodic re-announce: entries on other nodes expire, so they are refreshed while we run.
    this.timer = setInterval(
      () => void this.announceAll('re-announce'),
      options.announceIntervalMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS,
    );
    this.timer.unref();
    // Files published while no node was known are announced as soon as one is.
    node.onNode(() => {
      if (this.waitingForNode) void this.announceAll('first DHT node known');
    });
  }

  /** True while published files wait for a first DHT node. */
  get waiting(): boolean {
    return this.waitingForNode;
  }

  /** Number of keys announced (names and words). */
  get keyCount(): number {
    return this.keys.size;
  }

  /** Adds files to the catalog and announces their keys (seed 000, 18, publishNextFile). */
  async publish(files: PublishedFile[]): Promise<PublishOutcome> {
    this.catalog.add(files);
    const fresh: Buffer[] = [];
    for (const file of files) {
      for (const text of announcedTexts(file.name)) {
        const key = dhtKey(text);
        const hex = key.toString('hex');
        if (this.keys.has(hex)) continue;
        this.keys.set(hex, key);
        fresh.push(key);
      }
    }
    if (this.node.nodeCount === 0) {
      this.waitingForNode = true;
      this.log(`publish: no DHT node known yet; ${fresh.length} keys wait for the first one`);
      return { files: files.length, failed: 0, waiting: true };
    }
    const failed = await this.announceKeys(fresh, 'publish');
    return { files: files.length, failed, waiting: false };
  }

  /** Stops announcing and forgets every file (seed 000, 20). Returns how many were published. */
  clean(): number {
    this.keys.clear();
    this.waitingForNode = false;
    return this.catalog.clear();
  }

  /** Resolves once no announce is running (tests and `status` wait for a quiet moment). */
  idle(): Promise<void> {
    if (this.cycles === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops the re-announce timer. Idempotent. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private async announceAll(why: string): Promise<void> {
    if (this.closed || this.keys.size === 0) return;
    if (this.node.nodeCount === 0) {
      this.waitingForNode = true;
      return;
    }
    if (this.reannouncing) return;
    this.waitingForNode = false;
    this.reannouncing = true;
    try {
      await this.announceKeys([...this.keys.values()], why);
    } finally {
      this.reannouncing = false;
    }
  }

  /** Announces `keys` (skipping any cleaned meanwhile); returns how many no node took. */
  private async announceKeys(keys: Buffer[], why: string): Promise<number> {
    this.cycles++;
    try {
      const results = await mapWithLimit(keys, ANNOUNCE_CONCURRENCY, async (key) => {
        const hex = key.toString('hex');
        if (this.closed || !this.keys.has(hex)) return true;
        try {
          await this.node.announce(key, this.options.filePort);
          return true;
        } catch (error) {
          this.log(`${why}: announce of ${hex} failed: ${describeError(error)}`);
          return false;
        }
      });
      const failed = results.filter((ok) => !ok).length;
      // Every node we knew is gone: announce again as soon as a node shows up.
      if (failed > 0 && this.node.nodeCount === 0) this.waitingForNode = true;
      this.log(`${why}: announced ${keys.length - failed} of ${keys.length} keys`);
      return failed;
    } finally {
      if (--this.cycles === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
