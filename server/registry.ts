/**
 * The index: which peer (its announced file-server address) shares which files, under which alias
 * (seed 002). State only, no sockets; every change runs under one mutex (seed 003 FAQ 5:
 * concurrent peers must not race), so a sequence of awaits inside a change can never interleave
 * with another peer's. Every change checks everything first and then changes the index, so a
 * refused one changes nothing. An address or an alias belongs to one connection until it
 * leaves: another connection is refused (HeldError) and the server decides, with a liveness
 * probe, whether the holder is gone.
 * SEARCH reads without the mutex: it is one synchronous step on the one JavaScript thread, and
 * each change's critical section is synchronous too (no await inside), so a SEARCH sees the index
 * before or after any change, never halfway; queued behind the mutex it would only wait for
 * changes that started after it (docs/performance.md, "Index server").
 */
import { Mutex } from 'async-mutex';
import { formatAddress } from '../shared/address.ts';
import type { HolderCaps } from '../shared/capabilities.ts';
import { type ErrorCode, NapError } from '../shared/errors.ts';
import {
  aliasKey,
  type FileHolder,
  type PeerSummary,
  withAlias,
  withCaps,
} from '../shared/index-protocol.ts';
import { encodeLine } from '../shared/json-line.ts';
import { quoteText } from '../shared/terminal-text.ts';
import { HolderIndex, Holders } from './holder-index.ts';
import { checkPeerFiles, type IndexBudgets, nameBytes, resolveBudgets, serverFull } from './index-budgets.ts';

export { DEFAULT_MAX_PEERS } from './index-budgets.ts';

/** Identifies one client connection of the index server. */
export type ConnectionId = number;

export interface PeerEntry {
  /** Announced file-server address, `IP:port`: the peer's identity in the index. */
  address: string;
  ip: string;
  port: number;
  /** Shared file names, in the order the peer announced them. */
  files: string[];
  /** UTF-8 bytes of `files`, together (the per-peer name budget). */
  nameBytes: number;
  connection: ConnectionId;
  /** Seed 002's alias; a peer with one is a chat member and receives pushed messages. */
  alias?: string;
  /** Capability tokens it announced at JOIN (known ones only); absent when none. */
  caps?: string[];
}

/**
 * An entry as the registry keeps it: with the SEARCH_OK line that lists it alone, made once, as
 * bytes (a reply written as a string would be encoded to UTF-8 again at every write).
 */
interface Indexed extends PeerEntry {
  readonly searchOk: Uint8Array;
}

/** SEARCH_OK for a name nobody holds. */
const NOBODY = lineBytes({ type: 'SEARCH_OK', peers: [] });

/** ADDRESS_IN_USE or ALIAS_TAKEN: what is asked for belongs to the live connection `holder`. */
export class HeldError extends NapError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly holder: ConnectionId,
  ) {
    super(code, message);
  }
}

/** ADDRESS_IN_USE's sentence. */
export function addressInUseMessage(address: string): string {
  return `Another peer is joined as ${address} and still connected; JOIN with another port.`;
}

/** ALIAS_TAKEN's sentence. */
export function aliasTakenMessage(alias: string): string {
  return `The alias ${quoteText(alias)} is taken by another peer (aliases ignore case and width); choose another.`;
}

export type RegistryOptions = Partial<IndexBudgets>;

export class Registry {
  readonly budgets: IndexBudgets;
  private readonly mutex = new Mutex();
  // address -> entry; Map order is join order, which LIST keeps.
  private readonly peers = new Map<string, Indexed>();
  // connection -> the entry it joined as.
  private readonly joined = new Map<ConnectionId, Indexed>();
  // aliasKey(alias) -> the connection whose peer has that alias.
  private readonly aliases = new Map<string, ConnectionId>();
  // Members (peers with an alias), in join order: who gets pushes, without a walk of every peer.
  private readonly memberEntries = new Map<ConnectionId, PeerEntry>();
  private readonly holders = new HolderIndex<Indexed>();
  // (peer, file) pairs in the index: the sum of every entry's files.length.
  private entryCount = 0;

  constructor(options: RegistryOptions = {}) {
    this.budgets = resolveBudgets(options);
  }

  get maxPeers(): number {
    return this.budgets.maxPeers;
  }

  /**
   * JOIN (seed 003, 4b; seed 002 register): records the peer of `connection`, or replaces what it
   * announced before. Refused, changing nothing: an address or alias held by another connection
   * (HeldError), a newcomer past maxPeers (SERVER_FULL), files over a budget.
   */
  join(
    connection: ConnectionId,
    ip: string,
    port: number,
    files: readonly string[],
    alias?: string,
    caps?: readonly string[],
  ): Promise<PeerEntry> {
    return this.mutex.runExclusive(() => {
      const address = formatAddress(ip, port);
      const holder = this.peers.get(address);
      if (holder !== undefined && holder.connection !== connection)
        throw new HeldError('ADDRESS_IN_USE', addressInUseMessage(address), holder.connection);
      if (alias !== undefined) this.checkAliasFree(connection, alias);
      const previous = this.entryOf(connection);
      if (previous === undefined && this.peers.size >= this.budgets.maxPeers) throw serverFull(this.budgets);
      const unique = [...new Set(files)];
      const bytes = nameBytes(unique);
      const before = previous?.files.length ?? 0;
      checkPeerFiles(this.budgets, unique.length, bytes, this.entryCount - before + unique.length);
      // Nothing refused: now change the index.
      if (previous !== undefined) this.remove(previous);
      const held: PeerEntry = { address, ip, port, files: unique, nameBytes: bytes, connection };
      if (caps !== undefined && caps.length > 0) held.caps = [...caps];
      const entry: Indexed = { ...held, searchOk: lineBytes(searchOk([held])) };
      if (alias !== undefined) {
        entry.alias = alias;
        this.aliases.set(aliasKey(alias), connection);
        this.memberEntries.set(connection, entry);
      }
      this.peers.set(address, entry);
      this.joined.set(connection, entry);
      this.entryCount += unique.length;
      this.addHolder(entry, unique);
      return copy(entry);
    });
  }

  /**
   * SEARCH (seed 003, 4c): the addresses holding exactly `file`, who asked (its address), and the
   * capabilities of the holders that announced some. Synchronous, without the mutex (see above).
   */
  search(connection: ConnectionId, file: string): { requester: string; peers: string[]; caps: HolderCaps } {
    const requester = this.requireJoined(connection);
    const holders = this.holders.get(file);
    return {
      requester: requester.address,
      peers: holders.map((entry) => entry.address),
      caps: capsOf(holders),
    };
  }

  /**
   * SEARCH as the server answers it: who asked, and the SEARCH_OK line (with its newline), the
   * bytes of encodeLine(SEARCH_OK). One lookup for the asker, one for the name: a single holder's
   * line is made at its JOIN, and a name with several holders keeps its line until they change.
   */
  searchReply(connection: ConnectionId, file: string): { requester: string; reply: Uint8Array } {
    const requester = this.requireJoined(connection).address;
    const held = this.holders.peek(file);
    if (held === undefined) return { requester, reply: NOBODY };
    if (!(held instanceof Holders)) return { requester, reply: held.searchOk };
    if (held.encoded !== undefined) return { requester, reply: held.encoded };
    const reply = lineBytes(searchOk([...held.members]));
    this.holders.keep(held, reply);
    return { requester, reply };
  }

  // The other operations answer with the peer's address (and size), not a copy of its list: a
  // request repeated in a loop must not cost a copy of 10,000 names each time.

  /** UPDATE (seed 003, 4d): `connection`'s peer now also holds `file`; resolves with its address. */
  update(connection: ConnectionId, file: string): Promise<string> {
    return this.mutex.runExclusive(() => {
      const entry = this.requireJoined(connection);
      if (!entry.files.includes(file)) {
        const bytes = entry.nameBytes + Buffer.byteLength(file, 'utf8');
        checkPeerFiles(this.budgets, entry.files.length + 1, bytes, this.entryCount + 1);
        entry.files.push(this.holders.add(file, entry));
        entry.nameBytes = bytes;
        this.entryCount += 1;
      }
      return entry.address;
    });
  }

  /** ALIAS (seed 002 `/setNick`): renames `connection`'s peer; ALIAS_TAKEN if another has it. */
  setAlias(connection: ConnectionId, alias: string): Promise<string> {
    return this.mutex.runExclusive(() => {
      const entry = this.requireJoined(connection);
      this.checkAliasFree(connection, alias);
      if (entry.alias !== undefined) this.aliases.delete(aliasKey(entry.alias));
      entry.alias = alias;
      this.aliases.set(aliasKey(alias), connection);
      this.memberEntries.set(connection, entry);
      return entry.address;
    });
  }

  /** SET_FILES (seed 002 `/setSharedFiles`): `connection`'s peer now shares exactly `files`. */
  setFiles(
    connection: ConnectionId,
    files: readonly string[],
  ): Promise<{ address: string; fileCount: number }> {
    return this.mutex.runExclusive(() => {
      const entry = this.requireJoined(connection);
      const unique = [...new Set(files)];
      const bytes = nameBytes(unique);
      checkPeerFiles(
        this.budgets,
        unique.length,
        bytes,
        this.entryCount - entry.files.length + unique.length,
      );
      for (const file of entry.files) this.holders.remove(file, entry);
      this.entryCount += unique.length - entry.files.length;
      entry.files = unique;
      entry.nameBytes = bytes;
      this.addHolder(entry, unique);
      return { address: entry.address, fileCount: unique.length };
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
      return this.holders.get(file).map((entry) => withAlias({ address: entry.address }, entry.alias));
    });
  }

  /** The capabilities of those of `addresses` still joined that announced some (QUERY_OK `caps`). */
  holderCaps(addresses: readonly string[]): Promise<HolderCaps> {
    return this.mutex.runExclusive(() => this.capsOf(addresses));
  }

  /**
   * CHAT (seed 002 `sendToAll`): the sender, and the connections of every other member (a joined
   * peer with an alias). The sender needs an alias: a message is shown as `alias: text`.
   */
  chatRecipients(
    connection: ConnectionId,
  ): Promise<{ sender: { alias: string; address: string }; recipients: ConnectionId[] }> {
    return this.mutex.runExclusive(() => {
      const sender = this.requireJoined(connection);
      if (sender.alias === undefined)
        throw new NapError('BAD_REQUEST', 'CHAT needs an alias: send ALIAS (or JOIN with one) first.');
      return {
        sender: { alias: sender.alias, address: sender.address },
        recipients: this.memberConnections(connection),
      };
    });
  }

  /** The connections of every member (joined with an alias) except `except`: who gets pushes. */
  members(except?: ConnectionId): Promise<ConnectionId[]> {
    return this.mutex.runExclusive(() => this.memberConnections(except));
  }

  /** LEAVE, or the connection closed, went silent or failed a probe: its entries leave the index. */
  leave(connection: ConnectionId): Promise<PeerEntry | undefined> {
    return this.mutex.runExclusive(() => {
      const entry = this.entryOf(connection);
      if (entry === undefined) return undefined;
      this.remove(entry);
      return entry;
    });
  }

  /** A copy of every entry, in join order. */
  snapshot(): Promise<PeerEntry[]> {
    return this.mutex.runExclusive(() => [...this.peers.values()].map(copy));
  }

  /** Joined peers. */
  get size(): number {
    return this.peers.size;
  }

  /**
   * Distinct file names in the index. A name leaves with its last holder, so this stays bounded
   * by what the joined peers announce now, however many came and went.
   */
  get indexedNames(): number {
    return this.holders.names;
  }

  /** (peer, file) entries, the unit of the `maxEntries` budget. */
  get entries(): number {
    return this.entryCount;
  }

  private entryOf(connection: ConnectionId): Indexed | undefined {
    return this.joined.get(connection);
  }

  private requireJoined(connection: ConnectionId): Indexed {
    const entry = this.entryOf(connection);
    if (entry === undefined)
      throw new NapError('NOT_JOINED', 'JOIN first: this connection has not joined the index.');
    return entry;
  }

  private checkAliasFree(connection: ConnectionId, alias: string): void {
    const owner = this.aliases.get(aliasKey(alias));
    if (owner !== undefined && owner !== connection)
      throw new HeldError('ALIAS_TAKEN', aliasTakenMessage(alias), owner);
  }

  /** `entry` holds `files` (its own list): each name kept as the index's one copy of it. */
  private addHolder(entry: Indexed, files: string[]): void {
    for (let i = 0; i < files.length; i++) files[i] = this.holders.add(files[i] as string, entry);
  }

  private remove(entry: Indexed): void {
    this.peers.delete(entry.address);
    this.joined.delete(entry.connection);
    if (entry.alias !== undefined) this.aliases.delete(aliasKey(entry.alias));
    this.memberEntries.delete(entry.connection);
    this.entryCount -= entry.files.length;
    for (const file of entry.files) this.holders.remove(file, entry);
  }

  /** The capabilities of those of `addresses` that announced some (SEARCH_OK / QUERY_OK `caps`). */
  private capsOf(addresses: readonly string[]): HolderCaps {
    const caps: HolderCaps = {};
    for (const address of addresses) {
      const tokens = this.peers.get(address)?.caps;
      if (tokens) caps[address] = [...tokens];
    }
    return caps;
  }

  private memberConnections(except?: ConnectionId): ConnectionId[] {
    const members: ConnectionId[] = [];
    for (const connection of this.memberEntries.keys()) if (connection !== except) members.push(connection);
    return members;
  }
}

/** encodeLine(message) as UTF-8 bytes. */
function lineBytes(message: object): Buffer {
  return Buffer.from(encodeLine(message), 'utf8');
}

function copy(entry: PeerEntry): PeerEntry {
  const { searchOk: _line, ...copied } = entry as Indexed;
  return { ...copied, files: [...entry.files] };
}

/** SEARCH_OK listing `holders`, with the capabilities of those that announced some. */
function searchOk(holders: readonly PeerEntry[]) {
  return withCaps({ type: 'SEARCH_OK', peers: holders.map((entry) => entry.address) }, capsOf(holders));
}

/** The capabilities of those of `holders` that announced some (SEARCH_OK / QUERY_OK `caps`). */
function capsOf(holders: readonly PeerEntry[]): HolderCaps {
  const caps: HolderCaps = {};
  for (const entry of holders) if (entry.caps) caps[entry.address] = [...entry.caps];
  return caps;
}
