/**
 * Publishing (seed 000, 18-20): announces every published file under the SHA-1 of its name and of
 * each of its words, re-announces them periodically so they never expire while the daemon runs,
 * and keeps trying the keys no node took: right after a restart, say, the nodes we know may be
 * gone or refuse, and new ones appear a few seconds later. `clean` is the seed's remove: the
 * Mainline DHT has no delete, so it stops announcing and forgets the files; other nodes drop their
 * entries when these expire (their peer max age, DEFAULT_PEER_MAX_AGE_MS for napshare nodes).
 */
import { Semaphore } from 'async-mutex';
import { describeError, NapError } from '../../shared/errors.ts';
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
/**
 * Announces in flight at once, whatever runs them (publishes from several control clients, a
 * retry, the re-announce): each is a lookup plus announce_peer to up to 20 nodes.
 */
const ANNOUNCE_CONCURRENCY = 8;
/**
 * Keys not announced yet are tried again after 1 s, then 2, 4, 8 ... s, at most every 60 s, until
 * a node takes them: quick enough to catch nodes that appear just after a restart, and a network
 * that refuses for long costs one round a minute.
 */
export const RETRY_FIRST_MS = 1000;
export const RETRY_MAX_MS = 60_000;
/**
 * Keys announced at once (`--max-keys`): a name and each of its words. Every key is announced
 * again every 10 min, each announce a lookup and up to 20 queries: 20 000 keys is already about
 * 33 announces a second. Over it, publish is refused and nothing of it is added.
 */
export const DEFAULT_MAX_KEYS = 20_000;

export interface PublishOutcome {
  /** Files in the publish. */
  files: number;
  /** Keys no node has taken yet, these and earlier ones (tried again by themselves). */
  pending: number;
  /** True when no DHT node is known yet: the announces wait for the first one. */
  waiting: boolean;
}

export interface PublisherOptions {
  /** The file server's TCP port: what the DHT stores for each key. */
  filePort: number;
  announceIntervalMs?: number;
  retryFirstMs?: number;
  retryMaxMs?: number;
  maxKeys?: number;
  log?: Log;
}

/** The wait before retry number `attempt` (0 for the first). */
export function retryDelayMs(attempt: number, firstMs = RETRY_FIRST_MS, maxMs = RETRY_MAX_MS): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(attempt, 30));
}

export class Publisher {
  /** Keys announced (hex to key bytes): names and words of every published file. */
  private readonly keys = new Map<string, Buffer>();
  /** Keys no node has taken since they were published or since their last announce failed. */
  private readonly pending = new Set<string>();
  /** Keys being announced now (a publish and a retry never announce the same key twice at once). */
  private readonly inFlight = new Set<string>();
  private readonly announceSlots = new Semaphore(ANNOUNCE_CONCURRENCY);
  private readonly timer: NodeJS.Timeout;
  private readonly log: Log;
  private readonly maxKeys: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private retries = 0;
  /** A round found no node to ask: the first node that shows up starts the next one. */
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
    this.maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    // Periodic re-announce: entries on other nodes expire, so they are refreshed while we run.
    this.timer = setInterval(
      () => void this.announceAll('re-announce'),
      options.announceIntervalMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS,
    );
    this.timer.unref();
    // Keys waiting for a node are announced as soon as one is known.
    node.onNode(() => {
      if (!this.waitingForNode || this.closed) return;
      this.waitingForNode = false;
      this.retries = 0;
      void this.announcePending('a DHT node is known');
    });
  }

  /** True while published keys wait for a first DHT node. */
  get waiting(): boolean {
    return this.pending.size > 0 && this.node.nodeCount === 0;
  }

  /** Number of keys announced (names and words). */
  get keyCount(): number {
    return this.keys.size;
  }

  /** Keys no node has taken yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** How long until pending keys are tried again; undefined when no retry is scheduled. */
  get nextRetryInMs(): number | undefined {
    return this.retryTimer === undefined
      ? undefined
      : Math.max(0, Math.ceil(this.retryAt - performance.now()));
  }

  /**
   * Adds files to the catalog and announces their keys, and with them every key still pending
   * (seed 000, 18, publishNextFile). Throws BAD_ARGUMENT, adding nothing, past --max-keys.
   */
  async publish(files: PublishedFile[]): Promise<PublishOutcome> {
    const fresh = new Map<string, Buffer>();
    for (const file of files) {
      for (const text of announcedTexts(file.name)) {
        const key = dhtKey(text);
        const hex = key.toString('hex');
        if (!this.keys.has(hex)) fresh.set(hex, key);
      }
    }
    if (this.keys.size + fresh.size > this.maxKeys) {
      throw new NapError(
        'BAD_ARGUMENT',
        `These files would be announced under ${fresh.size} more keys (names and words) and at most ${this.maxKeys} can be (--max-keys); ${this.keys.size} already are.`,
      );
    }
    this.catalog.add(files);
    for (const [hex, key] of fresh) {
      this.keys.set(hex, key);
      this.pending.add(hex);
    }
    if (this.node.nodeCount === 0) {
      this.waitingForNode = this.pending.size > 0;
      this.log(`publish: no DHT node known yet; ${this.pending.size} keys wait for the first one`);
      return { files: files.length, pending: this.pending.size, waiting: true };
    }
    // Publishing again is also how a person retries what no node took: start the backoff over.
    this.retries = 0;
    await this.announcePending('publish');
    return { files: files.length, pending: this.pending.size, waiting: false };
  }

  /** Stops announcing and forgets every file (seed 000, 20). Returns how many were published. */
  clean(): number {
    this.keys.clear();
    this.pending.clear();
    this.cancelRetry();
    this.waitingForNode = false;
    return this.catalog.clear();
  }

  /** Resolves once no announce is running (tests and `status` wait for a quiet moment). */
  idle(): Promise<void> {
    if (this.cycles === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops the re-announce and retry timers. Idempotent. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.cancelRetry();
  }

  private async announceAll(why: string): Promise<void> {
    if (this.closed || this.keys.size === 0 || this.reannouncing) return;
    this.reannouncing = true;
    try {
      await this.announceKeys([...this.keys.keys()], why);
    } finally {
      this.reannouncing = false;
    }
  }

  /** Announces every pending key not already being announced. */
  private async announcePending(why: string): Promise<void> {
    await this.announceKeys([...this.pending], why);
  }

  /**
   * Announces the keys `hexes` (skipping any cleaned meanwhile or already in flight): those no node
   * takes become pending, those announced stop being so. Then schedules the next retry, if any.
   */
  private async announceKeys(hexes: string[], why: string): Promise<void> {
    if (this.closed) return;
    if (this.node.nodeCount === 0) {
      // Nobody to ask: the next node known starts the next round.
      this.waitingForNode = this.pending.size > 0 || hexes.length > 0;
      for (const hex of hexes) if (this.keys.has(hex)) this.pending.add(hex);
      return;
    }
    const todo = hexes.filter((hex) => !this.inFlight.has(hex));
    if (todo.length === 0) {
      this.scheduleRetry();
      return;
    }
    for (const hex of todo) this.inFlight.add(hex);
    this.cycles++;
    try {
      const results = await mapWithLimit(todo, ANNOUNCE_CONCURRENCY, async (hex) => {
        const key = this.keys.get(hex);
        if (this.closed || key === undefined) return true;
        try {
          await this.announceSlots.runExclusive(() => this.node.announce(key, this.options.filePort));
          this.pending.delete(hex);
          return true;
        } catch (error) {
          this.log(`${why}: announce of ${hex} failed: ${describeError(error)}`);
          if (this.keys.has(hex)) this.pending.add(hex);
          return false;
        } finally {
          this.inFlight.delete(hex);
        }
      });
      const failed = results.filter((ok) => !ok).length;
      this.log(
        `${why}: announced ${todo.length - failed} of ${todo.length} keys; ${this.pending.size} pending`,
      );
      // Every node we knew is gone: try again as soon as one shows up.
      if (this.pending.size > 0 && this.node.nodeCount === 0) this.waitingForNode = true;
    } finally {
      if (--this.cycles === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      this.scheduleRetry();
    }
  }

  /** One timer for every pending key, its wait doubling at each retry up to the cap. */
  private scheduleRetry(): void {
    if (this.closed || this.pending.size === 0) {
      this.cancelRetry();
      this.retries = 0;
      return;
    }
    if (this.retryTimer !== undefined || this.waitingForNode) return;
    const delay = retryDelayMs(this.retries++, this.options.retryFirstMs, this.options.retryMaxMs);
    this.retryAt = performance.now() + delay;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.announcePending('retry');
    }, delay);
    this.retryTimer.unref();
  }

  private cancelRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
