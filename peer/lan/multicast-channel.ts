/**
 * The group's UDP sockets (seed 001, I: "attend indéfiniment des messages sur une adresse de
 * multicast"). Two sockets: the receiver, bound to the group port (shared with the other members
 * of this machine), a member of the group on the chosen interface only; and the
 * sender, bound to the interface on a port of its own, so this member recognises its own datagrams
 * by their source address AND port (on one machine every member is 127.0.0.1). The interface is
 * pinned for both membership and sending: multicast never leaves through another interface.
 */
import dgram from 'node:dgram';
import { formatAddress, type HostPort } from '../../shared/address.ts';
import { describeError, NapError } from '../../shared/errors.ts';
import { type Log, silentLog } from '../../shared/log.ts';

/** Hops a datagram may cross: 1 keeps the group on the local network, as the seed intends. */
export const MULTICAST_TTL = 1;

/**
 * Where the receiver binds. On Linux and macOS, the group address: the socket then gets only the
 * group's datagrams, not unicast sent to this port from anywhere on the network, nor another
 * group's on the same port. Windows cannot bind a multicast address: there it binds 0.0.0.0.
 */
const RECEIVER_BINDS_GROUP = process.platform !== 'win32';

export interface MulticastChannelOptions {
  /** Multicast group address and port, e.g. 239.255.42.99:4242. */
  group: HostPort;
  /** IPv4 address of the interface to join and send through, e.g. 127.0.0.1. */
  iface: string;
  /** Every datagram from another socket than our sender. */
  onDatagram: (data: Buffer, from: HostPort) => void;
  log?: Log;
}

export function isMulticastAddress(ip: string): boolean {
  const first = Number(ip.split('.')[0]);
  return first >= 224 && first <= 239;
}

export class MulticastChannel {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly receiver: dgram.Socket,
    private readonly sender: dgram.Socket,
    private readonly options: MulticastChannelOptions,
  ) {}

  /** Joins the group. Rejects with a clear error when the interface or port cannot be used. */
  static async open(options: MulticastChannelOptions): Promise<MulticastChannel> {
    const log = options.log ?? silentLog;
    const { group, iface } = options;
    const receiver = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const sender = dgram.createSocket({ type: 'udp4' });
    const channel = new MulticastChannel(receiver, sender, options);
    try {
      await bind(receiver, group.port, RECEIVER_BINDS_GROUP ? group.host : '0.0.0.0');
      await bind(sender, 0, iface);
      try {
        receiver.addMembership(group.host, iface);
        sender.setMulticastInterface(iface);
      } catch (error) {
        throw new NapError(
          'BAD_ARGUMENT',
          `Cannot join ${formatAddress(group.host, group.port)} on interface ${iface}: ${describeError(error)}.`,
          { cause: error },
        );
      }
      sender.setMulticastTTL(MULTICAST_TTL);
      // Other members on this machine hear us only through the loopback copy.
      sender.setMulticastLoopback(true);
    } catch (error) {
      await channel.close();
      throw error;
    }
    const own = sender.address();
    receiver.on('message', (data, rinfo) => {
      if (rinfo.address === own.address && rinfo.port === own.port) return;
      options.onDatagram(data, { host: rinfo.address, port: rinfo.port });
    });
    receiver.on('error', (error) => log(`multicast receiver: ${describeError(error)}`));
    sender.on('error', (error) => log(`multicast sender: ${describeError(error)}`));
    log(
      `joined ${formatAddress(group.host, group.port)} on ${iface}, sending from ${formatAddress(own.address, own.port)}`,
    );
    return channel;
  }

  /** Where our datagrams come from (our own are recognised by this address and port). */
  get senderAddress(): HostPort {
    const { address, port } = this.sender.address();
    return { host: address, port };
  }

  /** Sends one datagram to the group. */
  send(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closing) return reject(new NapError('CONNECTION_CLOSED', 'The group channel is closed.'));
      this.sender.send(data, this.options.group.port, this.options.group.host, (error) => {
        if (error)
          reject(
            new NapError('IO', `Could not send to the group: ${describeError(error)}.`, { cause: error }),
          );
        else resolve();
      });
    });
  }

  /** Leaves the group and closes both sockets. Idempotent. */
  close(): Promise<void> {
    this.closing ??= Promise.all([closeSocket(this.receiver), closeSocket(this.sender)]).then(() => {});
    return this.closing;
  }
}

function bind(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'EADDRNOTAVAIL' ? 'it is not an address of this machine' : describeError(error);
      reject(
        new NapError(
          error.code === 'EADDRINUSE' ? 'ADDRESS_IN_USE' : 'BAD_ARGUMENT',
          `Cannot bind UDP ${formatAddress(address, port)}: ${reason}.`,
          { cause: error },
        ),
      );
    };
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      // Closing the socket also drops its group membership.
      socket.close(() => resolve());
    } catch {
      resolve(); // never bound, or already closed
    }
  });
}
