/**
 * The index: which peer (its announced file-server address) shares which files, under which alias
 * (seed 002). State only, no sockets; every operation runs under one mutex (seed 003 FAQ 5:
 * concurrent peers must not race), so a sequence of awaits inside an operation can never
 * interleave with another peer's.
 */
import { Mutex } from 'async-mutex';
import { formatAddress } from '../shared/address.ts';
import { NapError } from '../shared/errors.ts';
import { type FileHolder, type PeerSummary, withAlias } from '../shared/index-protocol.ts';

/** Identifies one client connection of the index server. */
export type ConnectionId = number;

export interface PeerEntry {
  /** Announced file-server address, `IP:port`: the peer's identity in the index. */
  address: string;
  ip: string;
  port: number;
  /** Shared file names, in the order the peer announced them. */
  files: string[];
  connection: ConnectionId;
  /** Seed 002's alias; a peer with one is a chat member and receives pushed messages. */
  alias?: string;
}

export interface JoinResult {
  entry: PeerEntry;
  /** The connection that held this address before and lost it to this JOIN, if any. */
  displaced?: ConnectionId;
}

/** Seed 002 asks for a maximum number of peers (it used 5); napshare's default is larger. */
export const DEFAULT_MAX_PEERS = 1000;

export interface RegistryOptions {
  /** Joined peers at most; the next JOIN gets SERVER_FULL. */
  maxPeers?: number;
}

export class Registry {
  readonly maxPeers: number;
  private readonly mutex = new Mutex();
  // address -> entry; Map order is join order, which SEARCH replies keep.
  private readonly peers = new Map<string, PeerEntry>();
  // connection -> the address it joined as.
  private readonly joined = new Map<ConnectionId, string>();
  // file name -> addresses holding it, in the order they got it: SEARCH is one lookup.
  private readonly holders = new Map<string, Set<string>>();

  constructor(options: RegistryOptions = {}) {
    this.maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS;
  }

  /**
   * JOIN (seed 003, 4b; seed 002 register): records or replaces the peer of `connection`.
   * A newcomer past `maxPeers` is refused with SERVER_FULL; a re-JOIN or an address taken over
   * does not add a peer, so it is always accepted.
   */
  join(
    connection: ConnectionId,
    ip: string,
    port: number,
    files: readonly string[],
    alias?: string,
  ): Promise<JoinResult> {
    return this.mutex.runExclusive(() => {
      const address = formatAddress(ip, port);
      if (!this.joined.has(connection) && !this.peers.has(address) && this.peers.size >= this.maxPeers) {
        throw new NapError(
          'SERVER_FULL',
          `The index server is full (${this.maxPeers} peers joined); try again later.`,
        );
      }
      // A second JOIN on one connection replaces what it announced before.
      const previous = this.joined.get(connection);
      if (previous !== undefined) this.removeAddress(previous);
      // An address announced from another connection is taken over (the old one is stale).
      const holder = this.peers.get(address);
      let displaced: ConnectionId | undefined;
      if (holder !== undefined) {
        displaced = holder.connection;
        this.joined.delete(holder.connection);
        this.removeAddress(address);
      }
      const entry: PeerEntry = { address, ip, port, files: [...new Set(files)], connection };
      if (alias !== undefined) entry.alias = alias;
      this.peers.set(address, entry);
      this.joined.set(connection, address);
      for (const file of entry.files) this.addHolder(file, address);
      return displaced === undefined ? { entry } : { entry, displaced };
    });
  }

  /** SEARCH (seed 003, 4c): the addresses holding exactly `file`, and who asked. */
  search(connection: ConnectionId, file: string): Promise<{ requester: PeerEntry; peers: string[] }> {
    return this.mutex.runExclusive(() => {
      const requester = this.requireJoined(connection);
      return { requester, peers: [...(this.holders.get(file) ?? [])] };
    });
  }

  /** UPDATE (seed 003, 4d): `connection`'s peer now also holds `file`. */
  update(connection: ConnectionId, file: string): Promise<PeerEntry> {
    return this.mutex.runExclusive(() => {
      const entry = this.requireJoined(connection);
      if (!entry.files.includes(file)) {
        entry.files.push(file);
        this.addHolder(file, entry.address);
      }
      return entry;
    });
  }

  /** ALIAS (seed 002 `/setNick`): renames `connection`'s peer. */
  setAlias(connection: ConnectionId, alias: string): Promise<PeerEntry> {
    return this.mutex.runExclusive(() => {
      const entry = this.requireJoined(connection);
      entry.alias = alias;
      return { ...entry, files: [...entry.files] };
    });
  }

  /** SET_FILES (seed 002 `/setSharedFiles`): `connection`'s peer now shares exactly `files`. */
  setFiles(connection: ConnectionId, files: readonly string[]): Promise<PeerEntry> {
    return this.mutex.runExclusive(() => {
      const entry = this.requireJoined(connection);
      for (const file of entry.files) this.removeHolder(file, entry.address);
      entry.files = [...new Set(files)];
      for (const file of entry.files) this.addHolder(file, entry.address);
      return { ...entry, files: [...entry.files] };
    });
  }

  /** LIST (seed 002 `/showall`): every online peer, in join order. */
  list(connection: ConnectionId): Promise<PeerSummary[]> {
    return this.mutex.runExclusive(() => {
      this.requireJoined(connection);
      return [...this.peers.values()].map((entry) =>
        withAlias({ address: entry.address, fileCount: entry.files.length }, entry.alias),
      );
    });
  }

  /** QUERY (seed 002 `/query`): who holds exactly `file`, with their aliases. */
  query(connection: ConnectionId, file: string): Promise<FileHolder[]> {
    return this.mutex.runExclusive(() => {
      this.requireJoined(connection);
      return [...(this.holders.get(file) ?? [])].map((address) =>
        withAlias({ address }, this.peers.get(address)?.alias),
      );
    });
  }

  /**
   * CHAT (seed 002 `sendToAll`): the sender, and the connections of every other member (a joined
   * peer with an alias). The sender needs an alias: a message is shown as `alias: text`.
   */
  chatRecipients(connection: ConnectionId): Promise<{ sender: PeerEntry; recipients: ConnectionId[] }> {
    return this.mutex.runExclusive(() => {
      const sender = this.requireJoined(connection);
      if (sender.alias === undefined)
        throw new NapError('BAD_REQUEST', 'CHAT needs an alias: send ALIAS (or JOIN with one) first.');
      return {
        sender: { ...sender, files: [...sender.files] },
        recipients: this.memberConnections(connection),
      };
    });
  }

  /** The connections of every member (joined with an alias) except `except`: who gets pushes. */
  members(except?: ConnectionId): Promise<ConnectionId[]> {
    return this.mutex.runExclusive(() => this.memberConnections(except));
  }

  /** LEAVE, or the connection closed or went silent: its peer's entries leave the index. */
  leave(connection: ConnectionId): Promise<PeerEntry | undefined> {
    return this.mutex.runExclusive(() => {
      const address = this.joined.get(connection);
      if (address === undefined) return undefined;
      this.joined.delete(connection);
      const entry = this.peers.get(address);
      this.removeAddress(address);
      return entry;
    });
  }

  /** A copy of every entry, in join order. */
  snapshot(): Promise<PeerEntry[]> {
    return this.mutex.runExclusive(() =>
      [...this.peers.values()].map((entry) => ({ ...entry, files: [...entry.files] })),
    );
  }

  get size(): number {
    return this.peers.size;
  }

  /**
   * Distinct file names in the index. A name leaves with its last holder, so this stays bounded
   * by what the joined peers announce now, however many came and went.
   */
  get indexedNames(): number {
    return this.holders.size;
  }

  private requireJoined(connection: ConnectionId): PeerEntry {
    const address = this.joined.get(connection);
    const entry = address === undefined ? undefined : this.peers.get(address);
    if (entry === undefined)
      throw new NapError('NOT_JOINED', 'JOIN first: this connection has not joined the index.');
    return entry;
  }

  private memberConnections(except?: ConnectionId): ConnectionId[] {
    const members: ConnectionId[] = [];
    for (const entry of this.peers.values())
      if (entry.alias !== undefined && entry.connection !== except) members.push(entry.connection);
    return members;
  }

  private addHolder(file: string, address: string): void {
    let set = this.holders.get(file);
    if (set === undefined) {
      set = new Set();
      this.holders.set(file, set);
    }
    set.add(address);
  }

  private removeAddress(address: string): void {
    const entry = this.peers.get(address);
    if (entry === undefined) return;
    this.peers.delete(address);
    for (const file of entry.files) this.removeHolder(file, address);
  }

  private removeHolder(file: string, address: string): void {
    const set = this.holders.get(file);
    set?.delete(address);
    if (set?.size === 0) this.holders.delete(file);
  }
}
