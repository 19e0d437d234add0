/**
 * One node of the Mainline DHT (BEP 5, Kademlia) through bittorrent-dht: napshare nodes and any
 * standard BitTorrent client (libtorrent, aria2, Transmission) form one network. The seed's
 * iterativeStore becomes announce_peer (the value stored is our address and file-server port) and
 * its iterativeFindValue becomes get_peers (seed 000, 14 and 18).
 *
 * How bittorrent-dht records an announce: the holder's IP is the UDP source address of the
 * announce_peer query (127.0.0.1 on loopback, the LAN address on a LAN) and its port is the `port`
 * argument, unless `implied_port` is 1, in which case it is the UDP source port. napshare always
 * announces its file server's TCP port explicitly, so implied_port is 0.
 */
import DHT, { type DhtPeer } from 'bittorrent-dht';
import { bindError } from '../../io/listen.ts';
import { formatAddress, type HostPort } from '../../shared/address.ts';
import { describeError, NapError } from '../../shared/errors.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import { LineBudget } from '../line-budget.ts';
import { type Bootstrap, libraryBootstrap } from './bootstrap.ts';
import { EndpointIds } from './endpoint-ids.ts';
import { GuardedSocket, type GuardStats } from './guarded-socket.ts';

/**
 * How long this node keeps a peer that another node announced to it. bittorrent-dht keeps them
 * forever unless told otherwise; 30 min matches what BitTorrent clients expect (they re-announce
 * every 15 to 30 min). The store is swept every 2/3 of this, so an entry lasts 2/3 to 4/3 of it.
 */
export const DEFAULT_PEER_MAX_AGE_MS = 30 * 60_000;
/** A lookup on the public DHT takes a few seconds; past this we answer with what we have. */
export const LOOKUP_TIMEOUT_MS = 30_000;
/**
 * An announce is a lookup then announce_peer queries (each up to the query timeout): past this it
 * counts as failed and is retried, so a lookup the library never ends cannot hold the publisher.
 */
export const ANNOUNCE_TIMEOUT_MS = LOOKUP_TIMEOUT_MS + 10_000;
/** Holders kept per lookup (`--max-results`): a popular public info-hash has thousands; a search lists a page. */
export const DEFAULT_MAX_RESULTS = 200;
/**
 * Lookups in flight at once (`--max-lookups`; a search makes one or two). Each holds a table of
 * up to 20 nodes and keeps up to 16 queries in flight; 32 control clients each pipelining searches
 * would otherwise pile up without end. Over it, a search is refused (BUSY) and may be retried.
 */
export const DEFAULT_MAX_LOOKUPS = 16;
/**
 * What the library keeps for others (its defaults, made explicit): holders announced to us (it
 * keeps two generations of this many, swept every 2/3 of the peer max age), BEP 44 values (1000
 * bytes each at most) and lookup tables cached for announces.
 */
const MAX_STORED_HOLDERS = 10_000;
const MAX_STORED_VALUES = 1000;
const MAX_CACHED_TABLES = 1000;
/** --verbose lines a second about single datagrams (dropped, failed, library warnings); the rest are counted. */
const DATAGRAM_LOG_LINES_PER_SECOND = 10;

export interface DhtNodeOptions {
  /** Address the UDP socket binds (127.0.0.1 in tests, 0.0.0.0 to join a LAN). */
  host: string;
  /** UDP port; 0 picks a free one. */
  port: number;
  bootstrap: Bootstrap;
  peerMaxAgeMs?: number;
  /** How long one KRPC query may take (bittorrent-dht's default: 2 s). */
  queryTimeoutMs?: number;
  /** Holders kept per lookup (DEFAULT_MAX_RESULTS). */
  maxResults?: number;
  /** Lookups in flight at once (DEFAULT_MAX_LOOKUPS). */
  maxLookups?: number;
  log?: Log;
}

export class DhtNode {
  /** Settles pending lookups and announces when the node closes (bittorrent-dht drops them). */
  private readonly pending = new Set<() => void>();
  private closing: Promise<void> | undefined;
  private readonly log: Log;
  private lookups = 0;
  private readonly maxResults: number;
  private readonly maxLookups: number;
  /** Resolves once the first bootstrap round is over (at once with `--bootstrap none`). */
  readonly ready: Promise<void>;
  readonly peerMaxAgeMs: number;

  private constructor(
    private readonly dht: DHT,
    private readonly socket: GuardedSocket,
    datagramLog: Log,
    options: DhtNodeOptions,
  ) {
    this.log = options.log ?? silentLog;
    this.peerMaxAgeMs = options.peerMaxAgeMs ?? DEFAULT_PEER_MAX_AGE_MS;
    this.maxResults = options.maxResults ?? DEFAULT_MAX_RESULTS;
    this.maxLookups = options.maxLookups ?? DEFAULT_MAX_LOOKUPS;
    this.ready = new Promise((resolve) => {
      dht.once('ready', () => resolve());
      dht.once('close', () => resolve());
    });
    // Nodes join as their datagrams arrive (any socket may claim to be one): budgeted like drops.
    dht.on('node', (node) =>
      datagramLog(`dht: node ${formatAddress(node.host, node.port)} joined the routing table`),
    );
    // Warnings come from single datagrams (an answer nobody asked for...): budgeted like drops.
    dht.on('warning', (error) => datagramLog(`dht warning: ${describeError(error)}`));
    // A socket error after start is logged: the daemon goes on (an unhandled 'error' would throw).
    dht.on('error', (error) => this.log(`dht error: ${describeError(error)}`));
  }

  /** Binds the UDP socket and starts bootstrapping. Rejects with ADDRESS_IN_USE when it cannot bind. */
  static async start(options: DhtNodeOptions): Promise<DhtNode> {
    const datagramLog = budgetedLog(options.log);
    let endpoints: EndpointIds | undefined;
    let table: DHT | undefined;
    const socket = new GuardedSocket({
      // A query or an answer under a new id from an address:port already in the table replaces its entry.
      beforeDelivery: (message, from) => {
        const id = message.y === 'q' ? message.a.id : message.y === 'r' ? message.r.id : undefined;
        if (!id || !table || !endpoints) return;
        const stale = endpoints.staleId(from.address, from.port, id);
        if (stale) table.removeNode(stale);
      },
      onMalformed: (error, bytes, from) =>
        datagramLog(
          `dht: dropped ${bytes} bytes from ${formatAddress(from.address, from.port)}: ${describeError(error)}`,
        ),
      onFailure: (error, from) =>
        datagramLog(
          `dht: the DHT library failed on a datagram from ${formatAddress(from.address, from.port)} (dropped): ${describeError(error)}`,
        ),
    });
    const dht = new DHT({
      // Always explicit: with no bootstrap the library silently contacts the public routers.
      bootstrap: libraryBootstrap(options.bootstrap),
      maxAge: options.peerMaxAgeMs ?? DEFAULT_PEER_MAX_AGE_MS,
      maxPeers: MAX_STORED_HOLDERS,
      maxValues: MAX_STORED_VALUES,
      maxTables: MAX_CACHED_TABLES,
      // Every datagram goes through the guard before the library sees it.
      socket,
      ...(options.queryTimeoutMs !== undefined ? { timeout: options.queryTimeoutMs } : {}),
    });
    table = dht;
    endpoints = new EndpointIds(dht.nodes);
    const node = new DhtNode(dht, socket, datagramLog, options);
    await new Promise<void>((resolve, reject) => {
      // k-rpc-socket reports EADDRINUSE/EACCES as 'error' and other bind failures as 'warning'.
      const onFailure = (error: NodeJS.ErrnoException) => {
        if (error.syscall !== undefined && error.syscall !== 'bind') return;
        dht.off('error', onFailure);
        dht.off('warning', onFailure);
        dht.destroy();
        reject(bindError(error, options.host, options.port));
      };
      dht.on('error', onFailure);
      dht.on('warning', onFailure);
      // Called in the same tick as the constructor, so the bootstrap queries leave from this socket.
      dht.listen(options.port, options.host, () => {
        dht.off('error', onFailure);
        dht.off('warning', onFailure);
        resolve();
      });
    });
    node.log(`dht: listening on udp ${options.host}:${node.port}, node id ${node.id}`);
    return node;
  }

  /** This node's 20-byte id, hex. */
  get id(): string {
    return this.dht.nodeId.toString('hex');
  }

  get port(): number {
    return this.dht.address().port;
  }

  /** Nodes in the routing table. */
  get nodeCount(): number {
    return this.dht.nodes.count();
  }

  /** Datagrams received, dropped as malformed, and those the library threw on. */
  get datagrams(): Readonly<GuardStats> {
    return this.socket.stats;
  }

  /** Calls `listener` for every node that enters the routing table. */
  onNode(listener: (node: HostPort) => void): void {
    this.dht.on('node', (node) => listener({ host: node.host, port: node.port }));
  }

  /** Calls `listener` when another node announces a holder to us (what we then store). */
  onAnnounce(listener: (holder: HostPort, keyHex: string) => void): void {
    this.dht.on('announce', (peer, infoHash) =>
      listener({ host: peer.host, port: peer.port }, infoHash.toString('hex')),
    );
  }

  /** Adds a node to the routing table (it is pinged first). */
  addNode(node: HostPort): void {
    this.dht.addNode(node);
  }

  /**
   * Announces `port` (our file server) as a holder of `key` to the closest nodes that gave us a
   * token: the seed's iterativeStore. Rejects when no node took it, or after ANNOUNCE_TIMEOUT_MS.
   * It looks the key up first, every time: the library would otherwise reuse the nodes of its
   * last lookup of that key for 5 minutes, and a retry would go to the very nodes that refused.
   */
  announce(key: Buffer, port: number, timeoutMs = ANNOUNCE_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return this.track((settle) => {
      timer = setTimeout(
        () => settle(new NapError('TIMEOUT', `The announce took longer than ${timeoutMs / 1000} s.`)),
        timeoutMs,
      );
      this.dht.lookup(key, () => {
        // Closing settled this announce already; the library must not be asked for more.
        if (this.closing) return;
        this.dht.announce(key, port, (error) => {
          if (error)
            settle(new NapError('CONNECT_FAILED', `No DHT node took the announce: ${error.message}.`));
          else settle();
        });
      });
    }).finally(() => clearTimeout(timer));
  }

  /**
   * Holders of `key` (get_peers, the seed's iterativeFindValue), including those in our own
   * store; no duplicates, at most `maxResults`. Refused with BUSY when `maxLookups` are running.
   */
  async lookup(key: Buffer, timeoutMs = LOOKUP_TIMEOUT_MS): Promise<HostPort[]> {
    if (this.lookups >= this.maxLookups) {
      throw new NapError(
        'BUSY',
        `Too many searches at once (--max-lookups ${this.maxLookups}); try again in a moment.`,
      );
    }
    const found = new Map<string, HostPort>();
    const onPeer = (peer: DhtPeer, infoHash: Buffer) => {
      if (!infoHash.equals(key) || found.size >= this.maxResults) return;
      found.set(formatAddress(peer.host, peer.port), { host: peer.host, port: peer.port });
    };
    this.dht.on('peer', onPeer);
    let abort: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    this.lookups++;
    try {
      await this.track((settle) => {
        timer = setTimeout(() => settle(), timeoutMs);
        abort = this.dht.lookup(key, () => settle());
      });
    } finally {
      this.lookups--;
      clearTimeout(timer);
      this.dht.off('peer', onPeer);
      abort?.();
    }
    return [...found.values()];
  }

  /** Leaves the DHT: closes the socket and settles every pending operation. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      for (const settle of [...this.pending]) settle();
      this.dht.destroy(() => resolve());
    });
    return this.closing;
  }

  /** Runs a callback-style operation so that close() can end it. */
  private track(run: (settle: (error?: Error) => void) => void): Promise<void> {
    if (this.closing) return Promise.reject(new NapError('CONNECTION_CLOSED', 'The DHT node is closed.'));
    return new Promise((resolve, reject) => {
      let done = false;
      const settle = (error?: Error) => {
        if (done) return;
        done = true;
        this.pending.delete(cancel);
        if (error) reject(error);
        else resolve();
      };
      const cancel = () => settle(new NapError('CONNECTION_CLOSED', 'The DHT node closed.'));
      this.pending.add(cancel);
      run(settle);
    });
  }
}

/** A log for lines caused by single datagrams: DATAGRAM_LOG_LINES_PER_SECOND, then a count. */
function budgetedLog(log: Log | undefined): Log {
  if (!log) return silentLog;
  const budget = new LineBudget({
    perWindow: DATAGRAM_LOG_LINES_PER_SECOND,
    print: log,
    summarise: (hidden) => `dht: ${hidden} more lines about single datagrams not logged in the last second`,
  });
  return (line) => budget.offer(line);
}
