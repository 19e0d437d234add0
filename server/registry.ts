/**
 * The index: which peer (its announced file-server address) shares which files. State only, no
 * sockets; every operation runs under one mutex (seed 003 FAQ 5: concurrent peers must not race),
 * so a sequence of awaits inside an operation can never interleave with another peer's.
 */
import { Mutex } from 'async-mutex';
import { formatAddress } from '../shared/address.ts';
import { NapError } from '../shared/errors.ts';

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
}

export interface JoinResult {
  entry: PeerEntry;
  /** The connection that held this address before and lost it to this JOIN, if any. */
  displaced?: ConnectionId;
}

export class Registry {
  private readonly mutex = new Mutex();
  // address -> entry; Map order is join order, which SEARCH replies keep.
  private readonly peers = new Map<string, PeerEntry>();
  // connection -> the address it joined as.
  private readonly joined = new Map<ConnectionId, string>();
  // file name -> addresses holding it, in the order they got it: SEARCH is one lookup.
  private readonly holders = new Map<string, Set<string>>();

  /** JOIN (seed 003, 4b): records or replaces the peer of `connection`. */
  join(connection: ConnectionId, ip: string, port: number, files: readonly string[]): Promise<JoinResult> {
    return this.mutex.runExclusive(() => {
      const address = formatAddress(ip, port);
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

  /** The connection closed: its peer's entries leave the index. */
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

  private requireJoined(connection: ConnectionId): PeerEntry {
    const address = this.joined.get(connection);
    const entry = address === undefined ? undefined : this.peers.get(address);
    if (entry === undefined)
      throw new NapError('NOT_JOINED', 'JOIN first: this connection has not joined the index.');
    return entry;
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
    for (const file of entry.files) {
      const set = this.holders.get(file);
      set?.delete(address);
      if (set?.size === 0) this.holders.delete(file);
    }
  }
}
