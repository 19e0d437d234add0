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
import { type Bootstrap, libraryBootstrap } from './bootstrap.ts';

/**
 * How long this node keeps a peer that another node announced to it. bittorrent-dht keeps them
 * forever unless told otherwise; 30 min matches what BitTorrent clients expect (they re-announce
 * every 15 to 30 min). The store is swept every 2/3 of this, so an entry lasts 2/3 to 4/3 of it.
 */
export const DEFAULT_PEER_MAX_AGE_MS = 30 * 60_000;
/** A lookup on the public DHT takes a few seconds; past this we answer with what we have. */
export const LOOKUP_TIMEOUT_MS = 30_000;
/** Holders kept per lookup: a popular public info-hash has thousands; a search lists a page. */
export const MAX_LOOKUP_PEERS = 200;

export interface DhtNodeOptions {
  /** Address the UDP socket binds (127.0.0.1 in tests, 0.0.0.0 to join a LAN). */
  host: string;
  /** UDP port; 0 picks a free one. */
  port: number;
  bootstrap: Bootstrap;
  peerMaxAgeMs?: number;
  /** How long one KRPC query may take (bittorrent-dht's default: 2 s). */
  queryTimeoutMs?: number;
  log?: Log;
}

export class DhtNode {
  /** Settles pending lookups and announces when the node closes (bittorrent-dht drops them). */
  private readonly pending = new Set<() => void>();
  private closing: Promise<void> | undefined;
  private readonly log: Log;
  /** Resolves once the first bootstrap round is over (at once with `--bootstrap none`). */
  readonly ready: Promise<void>;
  readonly peerMaxAgeMs: number;

  private constructor(
    private readonly dht: DHT,
    options: DhtNodeOptions,
  ) {
    this.log = options.log ?? silentLog;
    this.peerMaxAgeMs = options.peerMaxAgeMs ?? DEFAULT_PEER_MAX_AGE_MS;
    this.ready = new Promise((resolve) => {
      dht.once('ready', () => resolve());
      dht.once('close', () => resolve());
    });
    dht.on('node', (node) =>
      this.log(`dht: node ${formatAddress(node.host, node.port)} joined the routing table`),
    );
    dht.on('warning', (error) => this.log(`dht warning: ${describeError(error)}`));
    // A socket error after start is logged: the daemon goes on (an unhandled 'error' would throw).
    dht.on('error', (error) => this.log(`dht error: ${describeError(error)}`));
  }

  /** Binds the UDP socket and starts bootstrapping. Rejects with ADDRESS_IN_USE when it cannot bind. */
  static async start(options: DhtNodeOptions): Promise<DhtNode> {
    const dht = new DHT({
      // Always explicit: with no bootstrap the library silently contacts the public routers.
      bootstrap: libraryBootstrap(options.bootstrap),
      maxAge: options.peerMaxAgeMs ?? DEFAULT_PEER_MAX_AGE_MS,
      ...(options.queryTimeoutMs !== undefined ? { timeout: options.queryTimeoutMs } : {}),
    });
    const node = new DhtNode(dht, options);
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
   * token: the seed's iterativeStore. Rejects when no node took it.
   */
  announce(key: Buffer, port: number): Promise<void> {
    return this.track((settle) => {
      this.dht.announce(key, port, (error) => {
        if (error) settle(new NapError('CONNECT_FAILED', `No DHT node took the announce: ${error.message}.`));
        else settle();
      });
    });
  }

  /**
   * Holders of `key` (get_peers, the seed's iterativeFindValue), including those in our own
   * store; no duplicates, at most MAX_LOOKUP_PEERS.
   */
  async lookup(key: Buffer, timeoutMs = LOOKUP_TIMEOUT_MS): Promise<HostPort[]> {
    const found = new Map<string, HostPort>();
    const onPeer = (peer: DhtPeer, infoHash: Buffer) => {
      if (!infoHash.equals(key) || found.size >= MAX_LOOKUP_PEERS) return;
      found.set(formatAddress(peer.host, peer.port), { host: peer.host, port: peer.port });
    };
    this.dht.on('peer', onPeer);
    let abort: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.track((settle) => {
        timer = setTimeout(() => settle(), timeoutMs);
        abort = this.dht.lookup(key, () => settle());
      });
    } finally {
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
