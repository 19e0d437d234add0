/**
 * The gossip peer table (seed 004, sections 1 and 2.3): who we know, who is alive, who to keep.
 * Pure state: the clock is injected, no socket here, so every rule is tested without waiting.
 *
 * States: `pending` (learned from a Peer Address or the command line, no Hello yet), `active`
 * (a Hello less than `timeoutMs` ago), `inactive` (silent for longer: seed 004, 1 "considéré
 * inactif, et pourra être supprimé").
 */
import type { PeerAddress } from './tlv-codec.ts';

export type PeerState = 'pending' | 'active' | 'inactive';

export interface PeerEntry extends PeerAddress {
  readonly key: string;
  /** The peer given on the command line (REMOTEIP REMOTEPORT): ranked above other unheard peers. */
  readonly bootstrap: boolean;
  readonly learnedAt: number;
  /** The last Hello from this peer, undefined while it never sent one. */
  lastHelloAt?: number;
  /** The first Hello of the current unbroken run of Hellos: its stability is measured from here. */
  activeSince?: number;
  /** When this peer is next due a Peer Request (a new peer is asked at once). */
  requestDueAt: number;
  /** The state last reported through `version`. */
  shownState: PeerState;
}

/** What the table prints: one row per peer. */
export interface PeerView extends PeerAddress {
  state: PeerState;
  /** Time since its last Hello (since we learned it, while it never sent one). */
  ageMs: number;
  /** Length of its current (or, when inactive, its last) unbroken run of Hellos. */
  stableMs: number;
}

export interface PeerTableOptions {
  now: () => number;
  /** Seed 004: 4 s without Hello and a peer is inactive. */
  timeoutMs: number;
  /** Bound on the whole table: see DEFAULT_MAX_PEERS. */
  maxPeers: number;
  /** Peer Addresses are taken only while fewer peers than this are active: see defaultTargetPeers. */
  targetPeers: number;
  /** Bound on pending entries: see defaultMaxPending. */
  maxPending: number;
  /** Inactive peers kept when no peer is active any more (seed 004, 2.3). */
  minPeers: number;
  /** True for one of our own addresses: we never list ourselves. */
  isSelf: (host: string, port: number) => boolean;
}

/**
 * Why 32: each entry costs one Hello a second (seed 004, 1.3) plus a Peer Request every 10 s and
 * an answer of 8 bytes per active peer, so the bound caps our traffic at about 36 datagrams a
 * second whatever the size of the network or the number of Peer Address TLVs received (a single
 * 1400-byte datagram carries 174 of them, a flood of them would otherwise grow the table and the
 * Hellos without end).
 */
export const DEFAULT_MAX_PEERS = 32;

/**
 * Half the table. Seed 004 wants "un certain nombre de pairs" at hand, not everyone: we look for
 * peers (take Peer Addresses) until this many are active, and accept peers that greet
 * us up to the bound. The headroom matters: if every node filled its table from Peer Addresses, a
 * node still looking would only meet full tables, which refuse newcomers (stable peers first), and
 * could stay alone. 16 random links keep an overlay of hundreds of nodes connected many times over
 * (docs/gossip.md, "200 nodes in one process") and a classroom of up to 17 fully meshed.
 */
export function defaultTargetPeers(maxPeers: number): number {
  return Math.max(1, Math.floor(maxPeers / 2));
}
/** Seed 004, 2.3 "garder un minimum de pairs": a handful of former peers to try again. */
export const DEFAULT_MIN_PEERS = 3;

/**
 * A quarter of the table. Pending addresses cost nothing to forge (a third party's claim, no proof
 * of life) yet each costs a Hello a second until it expires: capping them keeps a flood of Peer
 * Address TLVs from turning us into a Hello reflector and leaves room for peers that answer.
 */
export function defaultMaxPending(maxPeers: number): number {
  return Math.max(1, Math.floor(maxPeers / 4));
}

export type HelloOutcome = 'added' | 'refreshed' | 'revived' | 'refused' | 'ignored';
export type AddressOutcome = 'added' | 'known' | 'refused' | 'ignored';

export class PeerTable {
  private readonly peers = new Map<string, PeerEntry>();
  private changes = 0;

  constructor(private readonly options: PeerTableOptions) {}

  get size(): number {
    return this.peers.size;
  }

  /**
   * Grows each time a peer comes, goes or changes state, so the owner can print the table exactly
   * when it changes at O(1) per datagram. Silent transitions (a peer turning inactive as time
   * passes) are noticed by `expire()`, which the owner calls each Hello interval.
   */
  get version(): number {
    return this.changes;
  }

  get(host: string, port: number): PeerEntry | undefined {
    return this.peers.get(peerKey(host, port));
  }

  stateOf(entry: PeerEntry): PeerState {
    if (entry.lastHelloAt === undefined) {
      return this.options.now() - entry.learnedAt > this.options.timeoutMs ? 'inactive' : 'pending';
    }
    return this.options.now() - entry.lastHelloAt <= this.options.timeoutMs ? 'active' : 'inactive';
  }

  /** The seed's first peer, from the command line (seed 004, 2 "le premier étant renseigné"). */
  addBootstrap(host: string, port: number): AddressOutcome {
    if (!isUsableAddress(host, port) || this.options.isSelf(host, port)) return 'ignored';
    if (this.peers.has(peerKey(host, port))) return 'known';
    this.insert(host, port, true);
    return 'added';
  }

  /**
   * A Hello (seed 004, 1.3): the sender is added, or its last-Hello date refreshed. A full table
   * makes room only by evicting a peer that is not active: stable peers are never pushed out by
   * a newcomer (seed 004, 2.3 "préférer les pairs les plus stables").
   */
  onHello(host: string, port: number): HelloOutcome {
    if (!isUsableAddress(host, port) || this.options.isSelf(host, port)) return 'ignored';
    const now = this.options.now();
    const known = this.peers.get(peerKey(host, port));
    if (known) {
      const wasActive = this.stateOf(known) === 'active';
      known.lastHelloAt = now;
      if (wasActive) return 'refreshed';
      known.activeSince = now;
      this.noteState(known);
      return 'revived';
    }
    if (this.peers.size >= this.options.maxPeers && !this.evictOneInactive()) return 'refused';
    const entry = this.insert(host, port, false);
    entry.lastHelloAt = now;
    entry.activeSince = now;
    entry.shownState = 'active';
    return 'added';
  }

  /**
   * A Peer Address (seed 004, 1.5): a pending entry, while we still look for peers (fewer than
   * targetPeers active) and pending room is left. Pending peers do not count toward the target: a
   * node one peer short still tries maxPending addresses at once, not one per timeout (many it
   * tries are full and never answer). The overshoot stays within maxPeers. It evicts nobody: an
   * address someone else vouches for is worth less than anything we already have.
   */
  onPeerAddress(host: string, port: number): AddressOutcome {
    if (!isUsableAddress(host, port) || this.options.isSelf(host, port)) return 'ignored';
    if (this.peers.has(peerKey(host, port))) return 'known';
    const { active, pending } = this.counts();
    if (
      this.peers.size >= this.options.maxPeers ||
      active >= this.options.targetPeers ||
      pending >= this.options.maxPending
    ) {
      return 'refused';
    }
    this.insert(host, port, false);
    return 'added';
  }

  /**
   * Removes peers silent for more than `timeoutMs` (seed 004, 2.2 step 5 remove_old_peers). When
   * no peer is active any more, the best `minPeers` of them stay (seed 004, 2.3 "garder des pairs
   * inactifs en mémoire lorsqu'on n'en a pas d'autres"): they still get Hellos, so the node
   * reconnects as soon as one comes back. Returns the removed entries.
   */
  expire(): PeerEntry[] {
    const all = [...this.peers.values()];
    const expired = all.filter((entry) => this.stateOf(entry) === 'inactive');
    const anyActive = all.some((entry) => this.stateOf(entry) === 'active');
    const kept = anyActive ? [] : expired.sort((a, b) => this.compare(b, a)).slice(0, this.options.minPeers);
    const removed = expired.filter((entry) => !kept.includes(entry));
    for (const entry of removed) this.peers.delete(entry.key);
    if (removed.length > 0) this.changes++;
    for (const entry of kept) this.noteState(entry);
    return removed;
  }

  /** Every entry, best first: Hellos go to all of them (pending ones must learn of us too). */
  entries(): PeerEntry[] {
    return [...this.peers.values()].sort((a, b) => this.compare(b, a));
  }

  /** Active peers, most stable first: what a Peer Request is answered with. */
  activePeers(): PeerEntry[] {
    return this.entries().filter((entry) => this.stateOf(entry) === 'active');
  }

  /** True while fewer than targetPeers peers are active: we are still looking for peers. */
  seeking(): boolean {
    return this.counts().active < this.options.targetPeers;
  }

  /** True if `entry` is due a Peer Request now; if so, schedules its next one. */
  takeRequestDue(entry: PeerEntry, requestIntervalMs: number): boolean {
    const now = this.options.now();
    if (now < entry.requestDueAt) return false;
    entry.requestDueAt = now + requestIntervalMs;
    return true;
  }

  /** Rows sorted by address (numeric IP, then port), so the printed table is deterministic. */
  view(): PeerView[] {
    const now = this.options.now();
    return [...this.peers.values()].sort(compareAddress).map((entry) => {
      const state = this.stateOf(entry);
      const runEnd = state === 'active' ? now : (entry.lastHelloAt ?? now);
      return {
        host: entry.host,
        port: entry.port,
        state,
        ageMs: now - (entry.lastHelloAt ?? entry.learnedAt),
        stableMs: entry.activeSince === undefined ? 0 : runEnd - entry.activeSince,
      };
    });
  }

  /** Active peers, and entries never heard from (`pending`, expired ones too). */
  private counts(): { active: number; pending: number } {
    let active = 0;
    let pending = 0;
    for (const entry of this.peers.values()) {
      if (entry.lastHelloAt === undefined) pending++;
      else if (this.stateOf(entry) === 'active') active++;
    }
    return { active, pending };
  }

  private insert(host: string, port: number, bootstrap: boolean): PeerEntry {
    const now = this.options.now();
    const key = peerKey(host, port);
    const entry: PeerEntry = {
      key,
      host,
      port,
      bootstrap,
      learnedAt: now,
      requestDueAt: now,
      shownState: 'pending',
    };
    this.peers.set(key, entry);
    this.changes++;
    return entry;
  }

  private noteState(entry: PeerEntry): void {
    const state = this.stateOf(entry);
    if (state === entry.shownState) return;
    entry.shownState = state;
    this.changes++;
  }

  private evictOneInactive(): boolean {
    let worst: PeerEntry | undefined;
    for (const entry of this.peers.values()) {
      if (this.stateOf(entry) === 'active') continue;
      if (!worst || this.compare(entry, worst) < 0) worst = entry;
    }
    if (!worst) return false;
    this.peers.delete(worst.key);
    this.changes++;
    return true;
  }

  /**
   * Positive when `a` is worth more than `b`. Active peers first, the longest unbroken run first;
   * then peers heard from, the most recently heard first; then the bootstrap; then other unheard
   * addresses, the most recently learned first (the older ones had their chance).
   */
  private compare(a: PeerEntry, b: PeerEntry): number {
    const tier = this.tier(a) - this.tier(b);
    if (tier !== 0) return tier;
    if (this.tier(a) === 3) return (b.activeSince ?? 0) - (a.activeSince ?? 0);
    if (this.tier(a) === 2) return (a.lastHelloAt ?? 0) - (b.lastHelloAt ?? 0);
    return a.learnedAt - b.learnedAt;
  }

  private tier(entry: PeerEntry): number {
    if (this.stateOf(entry) === 'active') return 3;
    if (entry.lastHelloAt !== undefined) return 2;
    return entry.bootstrap ? 1 : 0;
  }
}

export function peerKey(host: string, port: number): string {
  return `${host}:${port}`;
}

/**
 * An address one can send a datagram to: port 1-65535, not 0.0.0.0/8 ("this network"), not
 * multicast or reserved/broadcast (224.0.0.0 and above). Loopback and private addresses are fine.
 */
export function isUsableAddress(host: string, port: number): boolean {
  const first = Number(host.split('.')[0]);
  return Number.isInteger(port) && port >= 1 && port <= 65535 && first >= 1 && first < 224;
}

function ipv4Number(host: string): number {
  return host.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

function compareAddress(a: PeerAddress, b: PeerAddress): number {
  return ipv4Number(a.host) - ipv4Number(b.host) || a.port - b.port;
}
