/**
 * The part of bittorrent-dht 11 (Mainline DHT, BEP 5) that napshare's DHT mode uses. The package
 * ships no types. Read against node_modules/bittorrent-dht/client.js.
 */
declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events';

  export interface DhtPeer {
    host: string;
    port: number;
  }

  export interface DhtContact extends DhtPeer {
    id: Buffer;
  }

  export interface DhtOptions {
    /** 20-byte node id (random when absent). */
    nodeId?: Buffer | string;
    /**
     * false: contact nobody (the first node of a private network); a list of "host:port" or
     * {host, port}; true or absent: the public routers (router.bittorrent.com and others).
     */
    bootstrap?: false | true | (string | DhtPeer)[];
    /** When set, our own announces are also stored in our own peer table under this host. */
    host?: string | false;
    /** How long an announced peer stays in this node's store, ms (0 or absent: forever). */
    maxAge?: number;
    /** Most announced peers kept in this node's store (two generations of this many, in fact). */
    maxPeers?: number;
    /** Most BEP 44 values kept (default 1000). */
    maxValues?: number;
    /** Most lookup tables cached for announces, each for 5 minutes (default 1000). */
    maxTables?: number;
    /**
     * The UDP socket k-rpc-socket uses instead of creating one (passed down through k-rpc): it
     * listens for 'message', 'error', 'listening' and 'close', and calls bind, address, send and close.
     */
    socket?: import('node:events').EventEmitter & {
      bind(port?: number, address?: string, onListening?: () => void): unknown;
      address(): { address: string; family: string; port: number };
      send(
        data: Buffer,
        offset: number,
        length: number,
        port: number,
        host: string,
        callback?: (error: Error | null, bytes?: number) => void,
      ): void;
      close(onClose?: () => void): void;
    };
    /** How long one KRPC query may take, ms (default 2000). */
    timeout?: number;
    /** Nodes per k-bucket (default 20). */
    k?: number;
    /** Queries in flight at once (default 16). */
    concurrency?: number;
  }

  /** A k-bucket (the k-bucket package): emits 'added', 'removed', 'updated' and 'ping'. */
  export interface RoutingTable extends EventEmitter {
    count(): number;
    toArray(): DhtContact[];
  }

  export default class DHT extends EventEmitter {
    constructor(options?: DhtOptions);
    readonly nodeId: Buffer;
    readonly nodes: RoutingTable;
    readonly listening: boolean;
    readonly destroyed: boolean;
    readonly ready: boolean | undefined;
    listen(port: number, host: string, onListening?: () => void): void;
    address(): { address: string; family: string; port: number };
    addNode(node: DhtPeer & { id?: Buffer }): void;
    removeNode(id: Uint8Array): void;
    /** Announces `port` (0: implied port, the UDP source port) as a holder of `infoHash`. */
    announce(infoHash: Buffer | string, port: number, callback?: (error: Error | null) => void): void;
    /** Iterative get_peers; every peer found is emitted as 'peer'. Returns an abort function. */
    lookup(
      infoHash: Buffer | string,
      callback?: (error: Error | null, nodesVisited?: number) => void,
    ): () => void;
    destroy(callback?: () => void): void;

    on(event: 'peer', listener: (peer: DhtPeer, infoHash: Buffer, from: DhtPeer | null) => void): this;
    on(event: 'announce', listener: (peer: DhtPeer, infoHash: Buffer, from: DhtPeer) => void): this;
    on(event: 'node', listener: (node: DhtContact) => void): this;
    on(event: 'ready' | 'listening' | 'close', listener: () => void): this;
    on(event: 'error' | 'warning', listener: (error: Error & { code?: string }) => void): this;
    on(event: string, listener: (...args: never[]) => void): this;
  }
}
