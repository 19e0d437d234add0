/**
 * A gossip node (seed 004): owns the UDP socket and the timers, feeds received TLVs to the peer
 * table, and sends Hellos, Peer Requests and Peer Address answers. Decoding errors are caught here,
 * at the edge: nothing a datagram holds can throw out of the socket handler.
 */
import dgram from 'node:dgram';
import { bindError } from '../../io/listen.ts';
import { NapError } from '../../shared/errors.ts';
import type { Log } from '../../shared/log.ts';
import {
  DEFAULT_MAX_PEERS,
  DEFAULT_MIN_PEERS,
  defaultMaxPending,
  defaultTargetPeers,
  type PeerEntry,
  PeerTable,
  peerKey,
} from './peer-table.ts';
import { selfAddressTest } from './self-address.ts';
import {
  decodeDatagram,
  encodeDatagram,
  encodePeerAddresses,
  type GossipTlv,
  type PeerAddress,
} from './tlv-codec.ts';

/** Seed 004, 1.3: "Ce TLV doit être envoyé toutes les secondes à chaque pair." */
export const HELLO_INTERVAL_MS = 1000;
/** Seed 004, 1.4: "disons toutes les 10 secondes". */
export const REQUEST_INTERVAL_MS = 10_000;
/** Seed 004, 1: no Hello for 4 seconds and a peer is inactive. */
export const PEER_TIMEOUT_MS = 4000;
/** A tick more than this many Hello intervals after the previous one was late. */
const LATE_TICK_INTERVALS = 2;
/** Built once and never modified, so every send can share them (dgram does not copy). */
const HELLO_DATAGRAM = encodeDatagram([{ type: 'hello' }]);
const HELLO_AND_REQUEST_DATAGRAM = encodeDatagram([{ type: 'hello' }, { type: 'peer-request' }]);
/** Verbose traces name at most this many addresses of a datagram (it may carry 174). */
const TRACE_ADDRESSES = 8;

export interface GossipNodeOptions {
  /** The IPv4 address to bind; 0.0.0.0 (every interface) like the seed's program. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The seed's first peer (REMOTEIP REMOTEPORT); none when undefined. */
  bootstrap?: PeerAddress;
  helloIntervalMs?: number;
  requestIntervalMs?: number;
  timeoutMs?: number;
  maxPeers?: number;
  targetPeers?: number;
  maxPending?: number;
  minPeers?: number;
  /** Datagram traces (--verbose). */
  log?: Log;
  /** Called after an event that changed the table (a peer came, went or changed state). */
  onTableChange?: (node: GossipNode) => void;
  now?: () => number;
}

export interface GossipStats {
  /** Hello rounds run (one per interval when the process keeps up; fewer when it is starved). */
  rounds: number;
  datagramsSent: number;
  bytesSent: number;
  datagramsReceived: number;
  datagramsIgnored: number;
}

export class GossipNode {
  readonly table: PeerTable;
  readonly stats: GossipStats = {
    rounds: 0,
    datagramsSent: 0,
    bytesSent: 0,
    datagramsReceived: 0,
    datagramsIgnored: 0,
  };
  private readonly helloIntervalMs: number;
  private readonly requestIntervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private reportedVersion = -1;
  private lastTickAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly address: PeerAddress,
    private readonly options: GossipNodeOptions,
  ) {
    this.helloIntervalMs = options.helloIntervalMs ?? HELLO_INTERVAL_MS;
    this.requestIntervalMs = options.requestIntervalMs ?? REQUEST_INTERVAL_MS;
    const maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS;
    this.now = options.now ?? (() => performance.now());
    this.table = new PeerTable({
      now: this.now,
      timeoutMs: options.timeoutMs ?? PEER_TIMEOUT_MS,
      maxPeers,
      targetPeers: options.targetPeers ?? defaultTargetPeers(maxPeers),
      maxPending: options.maxPending ?? defaultMaxPending(maxPeers),
      minPeers: options.minPeers ?? DEFAULT_MIN_PEERS,
      isSelf: selfAddressTest(address.host, address.port),
    });
  }

  /** Binds the socket, adds the bootstrap peer, sends the first Hello at once, then one per interval. */
  static async start(options: GossipNodeOptions): Promise<GossipNode> {
    const socket = dgram.createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error: NodeJS.ErrnoException) =>
        reject(bindError(error, options.host, options.port)),
      );
      socket.bind({ address: options.host, port: options.port, exclusive: true }, () => resolve());
    });
    socket.removeAllListeners('error');
    const bound = socket.address();
    const node = new GossipNode(socket, { host: bound.address, port: bound.port }, options);
    socket.on('error', (error) => node.log(`socket error: ${error.message}`));
    socket.on('message', (data, from) => node.onDatagram(data, from.address, from.port));
    node.log(`listening on ${node.name}`);
    if (options.bootstrap) {
      const { host, port } = options.bootstrap;
      if (node.table.addBootstrap(host, port) === 'ignored') {
        await node.close();
        throw new NapError('BAD_ARGUMENT', `${peerKey(host, port)} is this node itself or not reachable.`);
      }
    }
    node.tick();
    // The tick runs in the check phase (setImmediate), after the poll phase has read the datagrams
    // already waiting: on a busy machine a late timer must not expire peers whose Hellos sit
    // unread in our own socket buffer.
    node.timer = setInterval(() => setImmediate(() => node.tick()), node.helloIntervalMs);
    return node;
  }

  /** `host:port` as bound (0.0.0.0 when bound to every interface). */
  get name(): string {
    return peerKey(this.address.host, this.address.port);
  }

  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      clearInterval(this.timer);
      this.socket.close(() => resolve());
    });
    return this.closed;
  }

  /** Each Hello interval: forget silent peers, then a Hello to each (with a Peer Request when due). */
  private tick(): void {
    if (this.closed) return;
    this.stats.rounds++;
    const now = this.now();
    // Woken late (a suspended laptop, a starved process): our peers' Hellos may be unread or, in
    // one process, unsent. Judge their silence at the next tick, not now.
    const gap = now - this.lastTickAt;
    this.lastTickAt = now;
    const late = gap > LATE_TICK_INTERVALS * this.helloIntervalMs;
    if (late && Number.isFinite(gap))
      this.log(`tick ${Math.round(gap)} ms after the previous one: expiry postponed`);
    else for (const gone of this.table.expire()) this.log(`removed ${gone.key}: no Hello for too long`);
    const extraAsk = this.table.seeking() ? randomItem(this.table.activePeers()) : undefined;
    for (const entry of this.table.entries()) {
      // Seed 004, 1.4: a Peer Request every requestInterval, in the same datagram as the Hello;
      // a new peer is asked at once. Below the target, one more peer is asked each tick: at a
      // network's start the first answers are empty, and waiting 10 s for the next is too long.
      const due = this.table.takeRequestDue(entry, this.requestIntervalMs);
      this.send(due || entry === extraAsk ? HELLO_AND_REQUEST_DATAGRAM : HELLO_DATAGRAM, entry);
    }
    this.reportChange();
  }

  private onDatagram(data: Buffer, host: string, port: number): void {
    this.stats.datagramsReceived++;
    try {
      const { tlvs, stopped } = decodeDatagram(data);
      this.trace('recv', host, port, data.length, tlvs);
      for (const tlv of inRandomAddressOrder(tlvs)) this.onTlv(tlv, host, port);
      if (stopped) this.log(`  rest of the datagram from ${peerKey(host, port)} skipped: ${stopped}`);
      this.reportChange();
    } catch (error) {
      // Seed 004, 1.1: a datagram with another header is ignored.
      this.stats.datagramsIgnored++;
      this.log(`ignored ${data.length} bytes from ${peerKey(host, port)}: ${(error as Error).message}`);
    }
  }

  private onTlv(tlv: GossipTlv, host: string, port: number): void {
    switch (tlv.type) {
      case 'hello':
        this.onHello(host, port);
        break;
      case 'peer-request':
        this.onPeerRequest(host, port);
        break;
      case 'peer-address':
        this.onPeerAddress(tlv);
        break;
      default:
        // Seed 004, 1.2: unknown types are silently ignored (and skipped by their Length).
        this.log(`  skipped TLV type ${tlv.code} (length ${tlv.length})`);
    }
  }

  /** Hello (seed 004, 1.3): add the sender or refresh its last-Hello date. */
  private onHello(host: string, port: number): void {
    const outcome = this.table.onHello(host, port);
    if (outcome === 'refused') this.log(`  table full of active peers: ${peerKey(host, port)} not added`);
  }

  /**
   * Peer Request (seed 004, 1.4): every peer we are connected to, as Peer Address TLVs in as many
   * datagrams as needed. Only active peers (proof of life, so forged addresses never spread) and
   * never the requester itself. Answered to anyone, even a stranger, so a newcomer whose bootstrap
   * is full can still learn other peers; the answer is at most ceil(maxPeers / 174) datagrams.
   */
  private onPeerRequest(host: string, port: number): void {
    const peers = this.table
      .activePeers()
      .filter((entry) => entry.host !== host || entry.port !== port)
      .map(({ host, port }) => ({ host, port }));
    for (const datagram of encodePeerAddresses(peers)) this.send(datagram, { host, port });
  }

  /** Peer Address (seed 004, 1.5): a new pending peer; Hello and request come at the next tick. */
  private onPeerAddress(address: PeerAddress): void {
    const outcome = this.table.onPeerAddress(address.host, address.port);
    if (outcome === 'refused') this.log(`  no room for ${peerKey(address.host, address.port)}`);
  }

  private send(datagram: Buffer, to: PeerAddress | PeerEntry): void {
    this.stats.datagramsSent++;
    this.stats.bytesSent += datagram.length;
    if (!this.options.log) {
      // UDP is fire and forget; without --verbose nobody reads a send error, so no callback per send.
      this.socket.send(datagram, to.port, to.host);
      return;
    }
    this.trace('send', to.host, to.port, datagram.length, decodeDatagram(datagram).tlvs);
    this.socket.send(datagram, to.port, to.host, (error) => {
      if (error) this.log(`send to ${peerKey(to.host, to.port)} failed: ${error.message}`);
    });
  }

  private reportChange(): void {
    if (this.table.version === this.reportedVersion) return;
    this.reportedVersion = this.table.version;
    this.options.onTableChange?.(this);
  }

  private trace(
    direction: 'send' | 'recv',
    host: string,
    port: number,
    bytes: number,
    tlvs: GossipTlv[],
  ): void {
    if (!this.options.log) return;
    const arrow = direction === 'send' ? 'to' : 'from';
    this.log(`${direction} ${bytes} bytes ${arrow} ${peerKey(host, port)}: ${describeTlvs(tlvs)}`);
  }

  private log(message: string): void {
    this.options.log?.(message);
  }
}

function randomItem<T>(items: readonly T[]): T | undefined {
  return items[Math.floor(Math.random() * items.length)];
}

/**
 * The TLVs with their Peer Addresses shuffled (the others keep their order and come first). When
 * pending room is short, a fixed order would make us try the same few addresses of a peer's list
 * at every answer, all of them perhaps full; a random sample explores the whole list over time.
 */
function inRandomAddressOrder(tlvs: GossipTlv[]): GossipTlv[] {
  const addresses: GossipTlv[] = tlvs.filter((tlv) => tlv.type === 'peer-address');
  if (addresses.length < 2) return tlvs;
  for (let i = addresses.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [addresses[i], addresses[j]] = [addresses[j] as GossipTlv, addresses[i] as GossipTlv];
  }
  return [...tlvs.filter((tlv) => tlv.type !== 'peer-address'), ...addresses];
}

/** "hello, peer-request, 3 peer-address (127.0.0.1:4200 127.0.0.1:4202 …)" */
export function describeTlvs(tlvs: readonly GossipTlv[]): string {
  const parts: string[] = [];
  const addresses = tlvs.flatMap((tlv) => (tlv.type === 'peer-address' ? [peerKey(tlv.host, tlv.port)] : []));
  for (const tlv of tlvs) {
    if (tlv.type === 'hello' || tlv.type === 'peer-request') parts.push(tlv.type);
    else if (tlv.type !== 'peer-address') parts.push(`${tlv.type} type ${tlv.code} length ${tlv.length}`);
  }
  if (addresses.length > 0) {
    const shown = addresses.slice(0, TRACE_ADDRESSES).join(' ');
    const more = addresses.length > TRACE_ADDRESSES ? ` and ${addresses.length - TRACE_ADDRESSES} more` : '';
    parts.push(`${addresses.length} peer-address (${shown}${more})`);
  }
  return parts.length > 0 ? parts.join(', ') : 'no TLV';
}
