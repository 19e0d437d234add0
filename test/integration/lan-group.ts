/**
 * Test tools for the LAN mode: a fresh multicast group per test (random address in 239.255.x.y and
 * a free port, so parallel test files never hear each other), a member run as the real CLI, a
 * plain UDP member that records every datagram of the group and sends raw ones, and a TCP relay
 * that records every byte.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { type CliProcess, runCli } from '../helpers/cli.ts';
import { makeTempDir } from '../helpers/files.ts';
import { withDeadline } from '../helpers/wait.ts';

/** A UDP port free right now on this machine (bind port 0, read it, close). */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '0.0.0.0', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

export interface TestGroup {
  host: string;
  port: number;
  text: string;
}

export async function randomGroup(): Promise<TestGroup> {
  const host = `239.255.${randomInt(1, 255)}.${randomInt(1, 255)}`;
  const port = await freeUdpPort();
  return { host, port, text: `${host}:${port}` };
}

export interface Member {
  cli: CliProcess;
  dir: string;
  /** The file server's port, from the ready line on stderr. */
  port: number;
}

/**
 * `npm run peer -- lan` in `group` on 127.0.0.1, with `folder` as its --dir (default: a new temporary
 * one); resolves once it is in.
 */
export async function startMember(group: TestGroup, folder?: string): Promise<Member> {
  const dir = folder ?? (await makeTempDir('napshare-lan-cli-'));
  const cli = runCli('peer', [
    'lan',
    '--group',
    group.text,
    '--iface',
    '127.0.0.1',
    '--port',
    '0',
    '--dir',
    dir,
  ]);
  const ready = await cli.waitFor(/files served at 127\.0\.0\.1:\d+/, 'stderr');
  const port = Number(/files served at 127\.0\.0\.1:(\d+)/.exec(ready)?.[1]);
  return { cli, dir, port };
}

/** A plain UDP member of the group on loopback (what socat would be): records and sends raw bytes. */
export class GroupTap {
  readonly datagrams: { data: Buffer; from: string }[] = [];
  private waiters: { test: (data: Buffer) => boolean; resolve: (data: Buffer) => void }[] = [];

  private constructor(
    private readonly receiver: dgram.Socket,
    readonly sender: dgram.Socket,
    private readonly group: TestGroup,
  ) {}

  /**
   * `from` is the loopback address the tap sends from: another one than 127.0.0.1 (127.0.0.2...)
   * stands for another machine of the LAN, as members see it by the datagrams' source address.
   */
  static async open(group: TestGroup, from = '127.0.0.1'): Promise<GroupTap> {
    const receiver = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve) => receiver.bind(group.port, '0.0.0.0', resolve));
    receiver.addMembership(group.host, '127.0.0.1');
    const sender = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sender.bind(0, from, resolve));
    sender.setMulticastInterface(from);
    const tap = new GroupTap(receiver, sender, group);
    receiver.on('message', (data, rinfo) => {
      tap.datagrams.push({ data, from: `${rinfo.address}:${rinfo.port}` });
      const keep: typeof tap.waiters = [];
      for (const waiter of tap.waiters) {
        if (waiter.test(data)) waiter.resolve(data);
        else keep.push(waiter);
      }
      tap.waiters = keep;
    });
    return tap;
  }

  send(data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.sender.send(data, this.group.port, this.group.host, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  }

  /** The first datagram (seen or to come) whose bytes pass `test`; fails after 10 s. */
  waitFor(test: (data: Buffer) => boolean): Promise<Buffer> {
    const seen = this.datagrams.find((datagram) => test(datagram.data));
    if (seen) return Promise.resolve(seen.data);
    return withDeadline(
      new Promise((resolve) => this.waiters.push({ test, resolve })),
      10_000,
      `a datagram on ${this.group.text} passing ${test} (${this.datagrams.length} heard)`,
    );
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.receiver, this.sender].map((socket) => new Promise<void>((r) => socket.close(() => r()))),
    );
  }
}

/** A TCP relay on 127.0.0.1 to `target`, recording what clients send and what the server answers. */
export class RecordingRelay {
  readonly fromClients: Buffer[] = [];
  readonly fromServer: Buffer[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server) {}

  static async start(targetPort: number): Promise<RecordingRelay> {
    const server = net.createServer();
    const relay = new RecordingRelay(server);
    server.on('connection', (client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
      for (const socket of [client, upstream]) {
        relay.sockets.add(socket);
        socket.on('close', () => relay.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (chunk: Buffer) => relay.fromClients.push(chunk));
      upstream.on('data', (chunk: Buffer) => relay.fromServer.push(chunk));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Everything that crossed the relay, both ways. */
  get bytes(): Buffer {
    return Buffer.concat([...this.fromClients, ...this.fromServer]);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
