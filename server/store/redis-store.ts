/**
 * The index's state in Redis, shared by every index server pointed at it (`--store`): each
 * change is one Lua script (redis-scripts.ts), so changes through different servers never race.
 * This server keeps a copy of its own connections' entries: it answers who asks (SEARCH's
 * requester) without a round trip, and it refills Redis with them after Redis restarted or this
 * server's entries were reaped (redis-upkeep.ts). Changes of one connection run one after the
 * other, its LEAVE included, so a close never overtakes the JOIN before it.
 */
import { formatAddress } from '../../shared/address.ts';
import type { HolderCaps } from '../../shared/capabilities.ts';
import { NapError } from '../../shared/errors.ts';
import {
  aliasKey,
  decodeIndexMessage,
  type FileHolder,
  isIndexPush,
  MAX_INDEX_LINE_BYTES,
  type PeerSummary,
  withAlias,
  withCaps,
} from '../../shared/index-protocol.ts';
import { encodeLine } from '../../shared/json-line.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import {
  checkPeerFiles,
  type IndexBudgets,
  indexFull,
  nameBytes,
  resolveBudgets,
  serverFull,
} from '../index-budgets.ts';
import {
  addressInUseMessage,
  aliasTakenMessage,
  type ConnectionId,
  HeldError,
  type PeerEntry,
} from '../registry.ts';
import type { IndexSize, IndexStore, RemotePush, SearchAnswer } from './index-store.ts';
import { RedisLink } from './redis-link.ts';
import { RedisUpkeep } from './redis-upkeep.ts';
import type { RedisLocation } from './store-url.ts';

/** Key prefix of napshare's index in Redis. */
export const DEFAULT_KEY_PREFIX = 'napshare:';

export interface RedisStoreOptions extends Partial<IndexBudgets> {
  location: RedisLocation;
  /** Keys start with this (default DEFAULT_KEY_PREFIX): several indexes in one Redis. */
  prefix?: string;
  log?: Log;
  /** Liveness TTL of this server's key (default SERVER_TTL_MS); tests shorten it. */
  serverTtlMs?: number;
}

/** One of this server's entries, and the aliasKey of its alias. */
interface Own extends PeerEntry {
  akey?: string;
}

export class RedisStore implements IndexStore {
  readonly budgets: IndexBudgets;
  /** This server's id in Redis: its peers' `conn` is `id/connection`. */
  readonly id = crypto.randomUUID().replaceAll('-', '').slice(0, 16);
  readonly link: RedisLink;
  readonly prefix: string;
  private readonly upkeep: RedisUpkeep;
  private readonly log: Log;
  // This server's joined connections, in join order.
  private readonly own = new Map<ConnectionId, Own>();
  // The tail of each connection's changes, while it has some in flight.
  private readonly chains = new Map<ConnectionId, Promise<unknown>>();
  private handler: (push: RemotePush) => void = () => {};
  // Servers whose liveness key was gone at the last renewal (their peers are being reaped).
  private dead = new Set<string>();
  // The index's size as last read (lastCounts).
  private size: IndexSize = { peers: 0, entries: 0, names: 0 };

  private constructor(options: RedisStoreOptions) {
    this.budgets = resolveBudgets(options);
    this.prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
    this.log = options.log ?? silentLog;
    this.link = new RedisLink(options.location, `${this.prefix}push`, this.log);
    this.upkeep = new RedisUpkeep(this, options.serverTtlMs);
  }

  /** Connects to Redis and joins the servers sharing it; STORE_UNAVAILABLE when it cannot. */
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(options);
    await store.link.open((message) => store.onPush(message));
    await store.upkeep.start();
    return store;
  }

  join(
    connection: ConnectionId,
    ip: string,
    port: number,
    files: readonly string[],
    alias?: string,
    caps?: readonly string[],
  ): Promise<PeerEntry> {
    return this.change(connection, async () => {
      const unique = [...new Set(files)];
      const bytes = nameBytes(unique);
      checkPeerFiles(this.budgets, unique.length, bytes, 0);
      const entry: Own = {
        address: formatAddress(ip, port),
        ip,
        port,
        files: unique,
        nameBytes: bytes,
        connection,
      };
      if (caps !== undefined && caps.length > 0) entry.caps = [...caps];
      if (alias !== undefined) {
        entry.alias = alias;
        entry.akey = aliasKey(alias);
      }
      await this.insert(entry, this.own.get(connection)?.address ?? '');
      this.own.delete(connection);
      this.own.set(connection, entry);
      return copy(entry);
    });
  }

  /** Writes `entry` (replacing `previous`, this connection's address before) as one JOIN script. */
  async insert(entry: Own, previous: string): Promise<void> {
    const result = await this.run(
      'nsJoin',
      this.id,
      this.conn(entry.connection),
      entry.address,
      previous,
      entry.akey ?? '',
      entry.alias ?? '',
      entry.caps ? JSON.stringify(entry.caps) : '',
      JSON.stringify(entry.files),
      entry.files.length,
      this.budgets.maxPeers,
      this.budgets.maxEntries,
    );
    this.check(result, entry.address, entry.alias);
  }

  /**
   * One ZRANGE: each holder is kept as `address|server|caps` (redis-scripts.ts), so SEARCH is
   * one atomic read of one key. Holders of a server known to be gone are skipped.
   */
  async search(
    connection: ConnectionId,
    file: string,
  ): Promise<{ requester: string; peers: string[]; caps: HolderCaps }> {
    const requester = this.requireJoined(connection).address;
    const peers: string[] = [];
    const caps: HolderCaps = {};
    for (const member of await this.link.members(`${this.prefix}f:${file}`)) {
      const first = member.indexOf('|');
      const second = member.indexOf('|', first + 1);
      if (first < 0 || second < 0 || this.dead.has(member.slice(first + 1, second))) continue;
      const address = member.slice(0, first);
      peers.push(address);
      if (second + 1 < member.length) caps[address] = parseCaps(member.slice(second + 1));
    }
    return { requester, peers, caps };
  }

  async searchReply(connection: ConnectionId, file: string): Promise<SearchAnswer> {
    const { requester, peers, caps } = await this.search(connection, file);
    return { requester, reply: encodeLine(withCaps({ type: 'SEARCH_OK', peers }, caps)) };
  }

  update(connection: ConnectionId, file: string): Promise<string> {
    return this.change(connection, async () => {
      const entry = this.requireJoined(connection);
      if (entry.files.includes(file)) return entry.address;
      const files = [...entry.files, file];
      const bytes = entry.nameBytes + Buffer.byteLength(file, 'utf8');
      checkPeerFiles(this.budgets, files.length, bytes, 0);
      const args = [this.conn(connection), entry.address, file, JSON.stringify(files), files.length];
      this.check(
        await this.run('nsUpdate', ...args, this.budgets.maxEntries),
        entry.address,
        undefined,
        connection,
      );
      entry.files = files;
      entry.nameBytes = bytes;
      return entry.address;
    });
  }

  setAlias(connection: ConnectionId, alias: string): Promise<string> {
    return this.change(connection, async () => {
      const entry = this.requireJoined(connection);
      const akey = aliasKey(alias);
      const result = await this.run('nsAlias', this.id, this.conn(connection), entry.address, akey, alias);
      this.check(result, entry.address, alias, connection);
      entry.alias = alias;
      entry.akey = akey;
      return entry.address;
    });
  }

  setFiles(
    connection: ConnectionId,
    files: readonly string[],
  ): Promise<{ address: string; fileCount: number }> {
    return this.change(connection, async () => {
      const entry = this.requireJoined(connection);
      const unique = [...new Set(files)];
      const bytes = nameBytes(unique);
      checkPeerFiles(this.budgets, unique.length, bytes, 0);
      const args = [this.conn(connection), entry.address, JSON.stringify(unique), unique.length];
      this.check(
        await this.run('nsSetFiles', ...args, this.budgets.maxEntries),
        entry.address,
        undefined,
        connection,
      );
      entry.files = unique;
      entry.nameBytes = bytes;
      return { address: entry.address, fileCount: unique.length };
    });
  }

  async list(connection: ConnectionId): Promise<PeerSummary[]> {
    this.requireJoined(connection);
    return (await this.peers(false)).map((peer) =>
      withAlias({ address: peer.address, fileCount: peer.fileCount }, peer.alias),
    );
  }

  async query(connection: ConnectionId, file: string): Promise<FileHolder[]> {
    this.requireJoined(connection);
    return (await this.holders(file)).peers;
  }

  async holderCaps(addresses: readonly string[]): Promise<HolderCaps> {
    const flat = (await this.run('nsCaps', ...addresses)) as string[];
    const caps: HolderCaps = {};
    for (let i = 0; i < flat.length; i += 2) caps[flat[i] as string] = parseCaps(flat[i + 1] as string);
    return caps;
  }

  async chatRecipients(connection: ConnectionId) {
    const sender = this.requireJoined(connection);
    if (sender.alias === undefined)
      throw new NapError('BAD_REQUEST', 'CHAT needs an alias: send ALIAS (or JOIN with one) first.');
    const recipients = this.localMembers(connection);
    const { members } = await this.allCounts();
    // Members of the index minus this server's (the sender among them).
    const elsewhere = Math.max(0, members - recipients.length - 1);
    return { sender: { alias: sender.alias, address: sender.address }, recipients, elsewhere };
  }

  async members(except?: ConnectionId): Promise<ConnectionId[]> {
    return this.localMembers(except);
  }

  /**
   * The entry leaves this server's copy at once; if Redis cannot be told now, the copy is what
   * is written back once it can (redis-upkeep.ts), so the entry does not outlive the outage.
   */
  leave(connection: ConnectionId): Promise<PeerEntry | undefined> {
    return this.change(connection, async () => {
      const entry = this.own.get(connection);
      if (entry === undefined) return undefined;
      this.own.delete(connection);
      try {
        await this.run('nsLeave', this.conn(connection), entry.address);
      } catch {
        this.upkeep.resyncSoon();
      }
      return copy(entry);
    });
  }

  async snapshot(): Promise<PeerEntry[]> {
    return (await this.peers(true)).map((peer) => {
      const [ip, port] = peer.address.split(':') as [string, string];
      const files = peer.files ?? [];
      const entry: PeerEntry = {
        address: peer.address,
        ip,
        port: Number(port),
        files,
        nameBytes: nameBytes(files),
        connection: peer.conn.startsWith(`${this.id}/`) ? Number(peer.conn.slice(this.id.length + 1)) : -1,
      };
      if (peer.alias !== undefined) entry.alias = peer.alias;
      if (peer.caps !== undefined) entry.caps = peer.caps;
      return entry;
    });
  }

  async counts(): Promise<{ peers: number; entries: number }> {
    const { peers, entries } = await this.allCounts();
    return { peers, entries };
  }

  broadcast(push: RemotePush): void {
    this.link.publish(`${this.id} ${encodeLine(push).trimEnd()}`);
  }

  onRemotePush(handler: (push: RemotePush) => void): void {
    this.handler = handler;
  }

  /** Tells this server's members of a departure the store noticed (a reaped server's peers). */
  announce(push: RemotePush): void {
    this.handler(push);
  }

  async close(): Promise<void> {
    await this.upkeep.stop();
    await this.link.close();
  }

  /** Runs a script with the prefix first. */
  run(name: Parameters<RedisLink['run']>[0], ...args: (string | number)[]): Promise<unknown> {
    return this.link.run(name, this.prefix, ...args);
  }

  /** The servers found gone at a renewal: SEARCH skips their peers until they are reaped. */
  setDead(ids: readonly string[]): void {
    this.dead = new Set(ids);
  }

  /** This server's entries, in join order (what a refill writes back). */
  ownEntries(): Own[] {
    return [...this.own.values()];
  }

  /** A refill could not write `connection`'s entry back: it is not joined any more. */
  forget(connection: ConnectionId): void {
    this.own.delete(connection);
  }

  /** Runs `job` after `connection`'s earlier changes and after any refill in progress. */
  private change<T>(connection: ConnectionId, job: () => Promise<T>): Promise<T> {
    const before = this.chains.get(connection) ?? Promise.resolve();
    const run = before.then(() => this.upkeep.guard(job));
    const tail = run.catch(() => undefined);
    this.chains.set(connection, tail);
    void tail.then(() => {
      if (this.chains.get(connection) === tail) this.chains.delete(connection);
    });
    return run;
  }

  /** Throws the refusal a script answered with; NOT_JOINED also ends this server's copy. */
  private check(result: unknown, address: string, alias?: string, connection?: ConnectionId): void {
    const [code, holder] = result as [string, string | undefined];
    if (code === 'OK') return;
    const local = holder === undefined ? -1 : Number(holder.slice(holder.indexOf('/') + 1));
    switch (code) {
      case 'HELD_ADDRESS':
        throw new HeldError('ADDRESS_IN_USE', addressInUseMessage(address), local);
      case 'HELD_ALIAS':
        throw new HeldError('ALIAS_TAKEN', aliasTakenMessage(alias ?? ''), local);
      case 'ADDRESS_IN_USE':
        throw new NapError('ADDRESS_IN_USE', addressInUseMessage(address));
      case 'ALIAS_TAKEN':
        throw new NapError('ALIAS_TAKEN', aliasTakenMessage(alias ?? ''));
      case 'SERVER_FULL':
        throw serverFull(this.budgets);
      case 'INDEX_FULL':
        throw indexFull(this.budgets);
      case 'NOT_JOINED':
        if (connection !== undefined) this.own.delete(connection);
        throw notJoined();
      default:
        throw new NapError('STORE_UNAVAILABLE', `The index store answered ${JSON.stringify(code)}.`);
    }
  }

  private requireJoined(connection: ConnectionId): Own {
    const entry = this.own.get(connection);
    if (entry === undefined) throw notJoined();
    return entry;
  }

  private conn(connection: ConnectionId): string {
    return `${this.id}/${connection}`;
  }

  private localMembers(except?: ConnectionId): ConnectionId[] {
    const members: ConnectionId[] = [];
    for (const [connection, entry] of this.own)
      if (entry.alias !== undefined && connection !== except) members.push(connection);
    return members;
  }

  private async holders(file: string): Promise<{ peers: FileHolder[]; caps: HolderCaps }> {
    const flat = (await this.run('nsHolders', file)) as string[];
    const peers: FileHolder[] = [];
    const caps: HolderCaps = {};
    for (let i = 0; i < flat.length; i += 3) {
      const address = flat[i] as string;
      peers.push(withAlias({ address }, flat[i + 2] || undefined));
      if (flat[i + 1]) caps[address] = parseCaps(flat[i + 1] as string);
    }
    return { peers, caps };
  }

  private async peers(withFiles: boolean) {
    const flat = (await this.run('nsPeers', withFiles ? '1' : '0')) as string[];
    const peers: {
      address: string;
      conn: string;
      fileCount: number;
      alias?: string;
      caps?: string[];
      files?: string[];
    }[] = [];
    for (let i = 0; i < flat.length; i += 6) {
      const [address, conn, count, alias, caps, files] = flat.slice(i, i + 6) as string[];
      peers.push({
        address: address as string,
        conn: conn as string,
        fileCount: Number(count),
        ...(alias ? { alias } : {}),
        ...(caps ? { caps: parseCaps(caps) } : {}),
        ...(files ? { files: parseFiles(files) } : {}),
      });
    }
    return peers;
  }

  /** Reads the index's size (and keeps it for lastCounts). */
  async allCounts(): Promise<IndexSize & { members: number }> {
    const [peers, entries, members, names] = ((await this.run('nsCounts')) as number[]).map(Number) as [
      number,
      number,
      number,
      number,
    ];
    this.size = { peers, entries, names };
    return { peers, entries, members, names };
  }

  lastCounts(): IndexSize {
    return { ...this.size };
  }

  // A line another server published: `id message`, a CHAT or PEER_LEFT for this server's members.
  private onPush(message: string): void {
    const space = message.indexOf(' ');
    if (space < 0 || message.slice(0, space) === this.id || message.length > MAX_INDEX_LINE_BYTES) return;
    try {
      const push = decodeIndexMessage(message.slice(space + 1));
      if (isIndexPush(push) && push.type !== 'PROBE') this.handler(push);
    } catch (error) {
      this.log(`ignored a push from the store: ${(error as Error).message}`);
    }
  }
}

function notJoined(): NapError {
  return new NapError('NOT_JOINED', 'JOIN first: this connection has not joined the index.');
}

function copy(entry: Own): PeerEntry {
  const { akey: _key, ...copied } = entry;
  return { ...copied, files: [...entry.files] };
}

// What Redis gives back was written by napshare's servers; still, only string lists pass.
function parseCaps(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((token): token is string => typeof token === 'string') : [];
}

function parseFiles(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((name): name is string => typeof name === 'string') : [];
}
