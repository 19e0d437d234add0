/**
 * What the index server needs of the index's state, whichever engine keeps it: the embedded
 * in-memory registry (memory-store.ts, the default) or Redis shared by several servers
 * (redis-store.ts). Both keep the same rules (test/unit/index-store-contract.test.ts runs one
 * suite against each): a refused change changes nothing, budgets and the no-takeover rule hold,
 * changes of one connection apply in the order they were asked for.
 * Connections are this server's own; peers joined at another server sharing the store are seen
 * by SEARCH, QUERY, LIST and the chat, never handed out as connection ids.
 */
import type { HolderCaps } from '../../shared/capabilities.ts';
import type { FileHolder, IndexPush, PeerSummary } from '../../shared/index-protocol.ts';
import type { IndexBudgets } from '../index-budgets.ts';
import type { ConnectionId, PeerEntry } from '../registry.ts';

export type { ConnectionId, PeerEntry } from '../registry.ts';
export { HeldError } from '../registry.ts';

/** SEARCH as the server answers it: who asked, and the SEARCH_OK line with its newline. */
export interface SearchAnswer {
  requester: string;
  reply: string | Uint8Array;
}

/** A message for the members of the other servers sharing the store (chat, departures). */
export type RemotePush = Exclude<IndexPush, { type: 'PROBE' }>;

export interface IndexSize {
  peers: number;
  entries: number;
  names: number;
}

export interface IndexStore {
  readonly budgets: IndexBudgets;
  /**
   * JOIN: records the peer of `connection` or replaces what it announced. Refused, changing
   * nothing: an address or alias another live connection of this server holds (HeldError, with
   * its id, to probe), one a live peer of another server holds (ADDRESS_IN_USE / ALIAS_TAKEN),
   * SERVER_FULL, a budget.
   */
  join(
    connection: ConnectionId,
    ip: string,
    port: number,
    files: readonly string[],
    alias?: string,
    caps?: readonly string[],
  ): Promise<PeerEntry>;
  /** SEARCH: the holders of exactly `file` (in the order they got it) and their capabilities. */
  search(
    connection: ConnectionId,
    file: string,
  ):
    | { requester: string; peers: string[]; caps: HolderCaps }
    | Promise<{ requester: string; peers: string[]; caps: HolderCaps }>;
  /** SEARCH, answered as bytes: at once (memory) or as a promise (Redis). */
  searchReply(connection: ConnectionId, file: string): SearchAnswer | Promise<SearchAnswer>;
  /** UPDATE: `connection`'s peer also holds `file`; resolves with its address. */
  update(connection: ConnectionId, file: string): Promise<string>;
  /** ALIAS: renames `connection`'s peer. */
  setAlias(connection: ConnectionId, alias: string): Promise<string>;
  /** SET_FILES: `connection`'s peer now shares exactly `files`. */
  setFiles(
    connection: ConnectionId,
    files: readonly string[],
  ): Promise<{ address: string; fileCount: number }>;
  /** LIST: every peer of the index, in join order. */
  list(connection: ConnectionId): Promise<PeerSummary[]>;
  /** QUERY: who holds exactly `file`, with aliases. */
  query(connection: ConnectionId, file: string): Promise<FileHolder[]>;
  /** The capabilities of those of `addresses` still joined that announced some. */
  holderCaps(addresses: readonly string[]): Promise<HolderCaps>;
  /**
   * CHAT: the sender, this server's other members (to push to), and how many members other
   * servers have (they get it through `broadcast`).
   */
  chatRecipients(connection: ConnectionId): Promise<{
    sender: { alias: string; address: string };
    recipients: ConnectionId[];
    elsewhere: number;
  }>;
  /** This server's members (joined with an alias) except `except`: who gets pushes here. */
  members(except?: ConnectionId): Promise<ConnectionId[]>;
  /** LEAVE or a closed connection: its entries leave the index at once. */
  leave(connection: ConnectionId): Promise<PeerEntry | undefined>;
  /** Every entry of the index, in join order (`connection` -1: a peer of another server). */
  snapshot(): Promise<PeerEntry[]>;
  /** Peers and (peer, file) entries in the whole index. */
  counts(): Promise<{ peers: number; entries: number }>;
  /**
   * Peers, entries and distinct names at once, for the metrics: exact for the memory store; for
   * Redis as read at its last renewal (at most a second old, redis-upkeep.ts).
   */
  lastCounts(): IndexSize;
  /** Sends `push` to the members of every other server sharing the store (none: nothing). */
  broadcast(push: RemotePush): void;
  /** `handler` gets what other servers broadcast, and departures the store itself noticed. */
  onRemotePush(handler: (push: RemotePush) => void): void;
  /** Stops background work and lets go of the engine. Idempotent. */
  close(): Promise<void>;
}
