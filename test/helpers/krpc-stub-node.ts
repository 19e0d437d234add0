/**
 * A DHT node that speaks KRPC (BEP 5) on a real UDP socket and takes no announce: it answers
 * ping, find_node (knowing nobody) and get_peers (with a token, as a node that would take an
 * announce does), then refuses every announce_peer with error 201. What a restarted daemon may
 * meet: nodes that answer but do not take its keys. Its bytes are built and read with the
 * `bencode` package, not with napshare's codec.
 */

import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import bencode from 'bencode';

interface Query {
  t?: Uint8Array;
  y?: Uint8Array;
  q?: Uint8Array;
}

export class KrpcStubNode {
  readonly id = randomBytes(20);
  /** Methods of the queries received, in order. */
  readonly queries: string[] = [];

  private constructor(private readonly socket: dgram.Socket) {}

  static async start(): Promise<KrpcStubNode> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const node = new KrpcStubNode(socket);
    socket.on('message', (data, from) => node.onQuery(data, from));
    return node;
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** How many announce_peer queries it refused. */
  get refusedAnnounces(): number {
    return this.queries.filter((method) => method === 'announce_peer').length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onQuery(data: Buffer, from: dgram.RemoteInfo): void {
    let query: Query;
    try {
      query = bencode.decode(data) as Query;
    } catch {
      return;
    }
    if (!query.t || Buffer.from(query.y ?? []).toString() !== 'q') return;
    const method = Buffer.from(query.q ?? []).toString();
    this.queries.push(method);
    const answer = (r: object) => this.send({ t: query.t, y: 'r', r: { id: this.id, ...r } }, from);
    switch (method) {
      case 'ping':
        answer({});
        break;
      case 'find_node':
        answer({ nodes: Buffer.alloc(0) });
        break;
      case 'get_peers':
        answer({ token: Buffer.from('stub-token'), nodes: Buffer.alloc(0) });
        break;
      case 'announce_peer':
        this.send({ t: query.t, y: 'e', e: [201, 'announces refused'] }, from);
        break;
    }
  }

  private send(message: object, to: dgram.RemoteInfo): void {
    this.socket.send(Buffer.from(bencode.encode(message)), to.port, to.address);
  }
}
