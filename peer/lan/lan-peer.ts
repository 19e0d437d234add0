/**
 * One member of the LAN group (seed 001): the messaging server (chat and offers heard on the
 * multicast group), the file server (offered files behind their passwords) and the client side
 * (send a message, offer a file, get a file). No central server: everything goes through the group.
 */
import { formatAddress, type HostPort } from '../../shared/address.ts';
import { describeError } from '../../shared/errors.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import { type DownloadResult, downloadFile } from '../downloader.ts';
import { FileServer, type FileServerLimits } from '../file-server.ts';
import { AuthThrottle, type AuthThrottleOptions } from './auth-throttle.ts';
import {
  decodeDatagram,
  encodeChat,
  encodeOffer,
  encodeQuery,
  encodeWithdraw,
  type OfferAnnouncement,
} from './datagram.ts';
import { MulticastChannel } from './multicast-channel.ts';
import { type HeardOffer, OFFER_REPEAT_MS, OfferTable, type OfferTableOptions } from './offer-table.ts';
import { OfferedFiles } from './offered-files.ts';
import { authProof, createPasswordGuard } from './password-guard.ts';

/**
 * Answers to QUERY at most this often: a member that just joined asks once; a flood of queries
 * must not make every member flood the group in return.
 */
export const QUERY_ANSWER_MIN_INTERVAL_MS = 2000;

export interface LanPeerEvents {
  /** A chat line from another member (seed 001: "132.227.64.88 :> coucou !"). */
  chat(fromIp: string, text: string): void;
  /** An offer heard for the first time (announced again while kept, it is not told again). */
  offerHeard(offer: HeardOffer): void;
}

export interface LanPeerOptions {
  group: HostPort;
  iface: string;
  /** File server port (0: a free one). It listens on the interface address. */
  port: number;
  /** Absolute folder: offered files are names in it, files got are saved into it. */
  folder: string;
  events: LanPeerEvents;
  log?: Log;
  /** How often our offers are announced again (tests shorten it). */
  offerRepeatMs?: number;
  /** Bounds of the table of offers heard (--max-offers, --max-offers-per-host). */
  offerTable?: OfferTableOptions;
  throttle?: AuthThrottleOptions;
  /** Uploads at once (default DEFAULT_MAX_UPLOADS). */
  maxUploads?: number;
  /** The file server's caps and timeouts: an unauthenticated client has requestTimeoutMs. */
  fileServerLimits?: Partial<FileServerLimits>;
}

export interface GetTarget {
  ip: string;
  port: number;
  file: string;
  password: string;
}

export class LanPeer {
  private readonly heard: OfferTable;
  private readonly log: Log;
  private repeatTimer: NodeJS.Timeout | undefined;
  private lastQueryAnswerMs = Number.NEGATIVE_INFINITY;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: LanPeerOptions,
    private readonly offered: OfferedFiles,
    private readonly throttle: AuthThrottle,
    private readonly fileServer: FileServer,
    private channel: MulticastChannel | undefined,
  ) {
    this.log = options.log ?? silentLog;
    this.heard = new OfferTable(options.offerTable);
  }

  static async start(options: LanPeerOptions): Promise<LanPeer> {
    const log = options.log ?? silentLog;
    const offered = new OfferedFiles(options.folder);
    const throttle = new AuthThrottle(options.throttle);
    // The file server of seed 001, II ("newFileServer(port, pwd)"), on the interface only.
    const fileServer = await FileServer.start({
      host: options.iface,
      port: options.port,
      catalog: offered,
      guard: createPasswordGuard({ passwordFor: (file) => offered.passwordFor(file), throttle, log }),
      maxUploads: options.maxUploads,
      limits: options.fileServerLimits,
      log,
    });
    const peer = new LanPeer(options, offered, throttle, fileServer, undefined);
    try {
      peer.channel = await MulticastChannel.open({
        group: options.group,
        iface: options.iface,
        onDatagram: (data, from) => peer.onDatagram(data, from),
        log,
      });
    } catch (error) {
      await peer.close();
      throw error;
    }
    peer.repeatTimer = setInterval(() => void peer.announceAll(), options.offerRepeatMs ?? OFFER_REPEAT_MS);
    peer.repeatTimer.unref();
    // Members already there announce their offers again, so OFFERS is useful at once.
    await peer.send(encodeQuery()).catch((error) => log(`query not sent: ${describeError(error)}`));
    return peer;
  }

  /** The file server's address, as offers announce it. */
  get fileServerAddress(): HostPort {
    return { host: this.options.iface, port: this.fileServer.port };
  }

  /** Where this member's datagrams come from. */
  get senderAddress(): HostPort {
    return this.requireChannel().senderAddress;
  }

  // Menu 1 (seed 001): send a message to the group.
  async say(text: string): Promise<void> {
    await this.send(encodeChat(text));
  }

  // Menu 4 (seed 001): offer a file of the folder under a password, and announce it.
  async offer(file: string, password: string): Promise<OfferAnnouncement> {
    const shared = await this.offered.add(file, password);
    const announcement = { file, size: shared.size, ...this.announcedAddress() };
    await this.send(encodeOffer(announcement));
    return announcement;
  }

  /** Offers heard from the other members, by number. */
  offersHeard(): HeardOffer[] {
    return this.heard.list(performance.now());
  }

  offerById(id: number): HeardOffer | undefined {
    return this.heard.get(id, performance.now());
  }

  // Menu 2 (seed 001, "getFileFromServer((IP,port),(pwd,file))"): the file lands in the folder.
  get(target: GetTarget, onProgress?: (received: number, total: number) => void): Promise<DownloadResult> {
    return downloadFile({
      host: target.ip,
      port: target.port,
      file: target.file,
      folder: this.options.folder,
      log: this.log,
      onProgress,
      // Only the proof leaves this machine, never the password.
      answerChallenge: (file, nonce) => authProof(target.password, nonce, file),
    });
  }

  /** Withdraws our offers, leaves the group, stops the file server. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.repeatTimer);
      if (this.channel && this.offered.names.length > 0) {
        const { ip, port } = this.announcedAddress();
        await this.send(encodeWithdraw(ip, port)).catch(() => {});
      }
      this.throttle.close();
      await Promise.all([this.channel?.close(), this.fileServer.close()]);
    })();
    return this.closing;
  }

  // Messaging server (seed 001, I and II): every datagram of another member.
  private onDatagram(data: Buffer, from: HostPort): void {
    let datagram: ReturnType<typeof decodeDatagram>;
    try {
      datagram = decodeDatagram(data);
    } catch (error) {
      this.log(`${formatAddress(from.host, from.port)}: ${describeError(error)}`);
      return;
    }
    switch (datagram.type) {
      case 'CHAT':
        this.onChat(from, datagram.lines);
        break;
      case 'OFFER':
        this.onOffer(from, datagram.offer);
        break;
      case 'WITHDRAW':
        this.onWithdraw(from, datagram.ip, datagram.port);
        break;
      case 'QUERY':
        this.onQuery();
        break;
    }
  }

  // Chat message (seed 001, I): shown with the sender's address.
  private onChat(from: HostPort, lines: string[]): void {
    for (const line of lines) this.options.events.chat(from.host, line);
  }

  // Offer (seed 001, extensions: "proposer un fichier par une requête particulière").
  private onOffer(from: HostPort, offer: OfferAnnouncement): void {
    // A member offers its own files only: an offer naming another host is ignored.
    if (offer.ip !== from.host) {
      this.log(`${from.host}: ignored an offer naming another host (${offer.ip})`);
      return;
    }
    const { offer: heard, isNew } = this.heard.add(offer, performance.now());
    if (isNew) this.options.events.offerHeard(heard);
  }

  // Withdrawal: the member left; its offers go.
  private onWithdraw(from: HostPort, ip: string, port: number): void {
    if (ip === from.host) this.heard.withdraw(ip, port);
  }

  // Query: a member joined and asks what is offered.
  private onQuery(): void {
    const now = performance.now();
    if (now - this.lastQueryAnswerMs < QUERY_ANSWER_MIN_INTERVAL_MS) return;
    this.lastQueryAnswerMs = now;
    void this.announceAll();
  }

  private async announceAll(): Promise<void> {
    for (const file of this.offered.names) {
      try {
        const shared = await this.offered.find(file);
        await this.send(encodeOffer({ file, size: shared.size, ...this.announcedAddress() }));
      } catch (error) {
        this.log(`offer of ${file} not announced: ${describeError(error)}`);
      }
    }
  }

  private announcedAddress(): { ip: string; port: number } {
    const { host, port } = this.fileServerAddress;
    return { ip: host, port };
  }

  private send(data: Buffer): Promise<void> {
    return this.requireChannel().send(data);
  }

  private requireChannel(): MulticastChannel {
    if (!this.channel) throw new Error('The LAN peer is not started.');
    return this.channel;
  }
}
