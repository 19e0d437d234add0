/**
 * The course peer (seed 003, section 5): JOIN, SEARCH and DOWNLOAD as the menu and the line
 * commands both run them. Prints exactly the console contract's lines through `print`; failures
 * are thrown as NapError for the caller to report on stderr.
 */
import type { HostPort } from '../shared/address.ts';
import { formatAddress, parseHostPort } from '../shared/address.ts';
import { CAP_INFO, type HolderCaps, hasCap, NAPSHARE_CAPS } from '../shared/capabilities.ts';
import { NapError } from '../shared/errors.ts';
import type { MemberPush } from '../shared/index-protocol.ts';
import { type Log, silentLog } from '../shared/log.ts';
import { peerDownloadLine, peerJoinLine, peerSearchLine } from '../shared/messages.ts';
import { terminalLine } from '../shared/terminal-text.ts';
import { FileServer, type FileServerLimits } from './file-server.ts';
import { IndexClient } from './index-client.ts';
import type { ProgressSink } from './progress-bar.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { FolderCatalog, listSharedFiles, requireFolder } from './shared-folder.ts';
import { type DownloadResult, download, type Progress, unverifiedNotice } from './transfer/download.ts';
import type { Source } from './transfer/range-receiver.ts';

export interface PeerSessionOptions {
  server: HostPort;
  /** Other servers of the same index (`--server A,B`): a lost session fails over to them. */
  fallbacks?: readonly HostPort[];
  /** Receives each console-contract line (the CLI writes them to stdout). */
  print: (line: string) => void;
  log?: Log;
  maxUploads?: number;
  /** The file server's connection caps and timeouts (defaults: file-server.ts). */
  fileServerLimits?: Partial<FileServerLimits>;
  limiter?: RateLimiter | undefined;
  /** Shows download progress (a bar on a terminal); nothing when absent. */
  progress?: ProgressSink | undefined;
  /** Notices about the index session (lost, re-joined by itself); default: stderr. */
  notice?: (message: string) => void;
  /** Messages the index server pushes (seed 002's CHAT, PEER_LEFT), once this peer has an alias. */
  onPush?: (push: MemberPush) => void;
}

/** A SEARCH's answer: the file, its holders, and the capabilities the index knows of them. */
export interface Found {
  file: string;
  peers: string[];
  caps: HolderCaps;
}

/** How one download is watched and stopped (the web page's progress and Cancel). */
export interface DownloadControl {
  onProgress?: (progress: Progress) => void;
  /** Aborting it cancels the download (CANCELLED); the verified pieces stay in the `.part`. */
  signal?: AbortSignal;
}

export interface Joined {
  ip: string;
  port: number;
  /** The folder exactly as the user typed it (the download line repeats it). */
  folderTyped: string;
  folder: string;
}

export class PeerSession {
  private client: IndexClient | undefined;
  private fileServer: FileServer | undefined;
  private joinedAs: Joined | undefined;
  private lastSearch: Found | undefined;
  private readonly log: Log;

  constructor(private readonly options: PeerSessionOptions) {
    this.log = options.log ?? silentLog;
  }

  get joined(): Joined | undefined {
    return this.joinedAs;
  }

  get lastSearchResult(): Found | undefined {
    return this.lastSearch;
  }

  // JOIN (seed 003, 5b, 5i): start the file server on IP:port, announce the folder's files.
  async join(ip: string, port: number, folderTyped: string): Promise<void> {
    const folder = await requireFolder(folderTyped);
    const files = await listSharedFiles(folder, this.log);
    // Serve before announcing, so nobody is ever sent to an address that does not answer yet. A
    // second JOIN keeps the current file server until the new one runs, unless it needs its port.
    const previous = this.fileServer;
    const samePort = previous !== undefined && this.joinedAs?.ip === ip && this.joinedAs.port === port;
    if (samePort) {
      this.fileServer = undefined;
      await previous.close();
    }
    const fileServer = await FileServer.start({
      host: ip,
      port,
      catalog: new FolderCatalog(folder),
      maxUploads: this.options.maxUploads,
      limits: this.options.fileServerLimits,
      limiter: this.options.limiter,
      log: this.log,
    });
    try {
      const client = await this.indexClient();
      // Its file server answers INFO: downloaders must verify what it sends (shared/capabilities.ts).
      await client.join(ip, fileServer.port, files, undefined, NAPSHARE_CAPS);
    } catch (error) {
      await fileServer.close();
      throw error;
    }
    if (!samePort) await previous?.close();
    this.fileServer = fileServer;
    this.joinedAs = { ip, port: fileServer.port, folderTyped, folder };
    this.options.print(peerJoinLine(formatAddress(ip, fileServer.port), files));
  }

  // SEARCH (seed 003, 5d): ask the index who holds exactly `file`.
  async search(file: string): Promise<string[]> {
    const client = await this.indexClient();
    const { peers, caps } = await client.searchHolders(file);
    this.lastSearch = { file, peers, caps };
    this.options.print(peerSearchLine(peers));
    return peers;
  }

  /**
   * DOWNLOAD (seed 003, 5f): fetch the file of the last SEARCH from ip:port, then UPDATE.
   * An address the last SEARCH did not list is treated as a napshare peer: it must be verified.
   */
  async download(ip: string, port: number): Promise<void> {
    await this.fetch([{ host: ip, port }], this.lastSearch);
  }

  /**
   * The extended DOWNLOAD: the file of the last SEARCH from every peer that listed it, pieces
   * taken from all of them in parallel (never part of the course menu).
   */
  async downloadFromAll(): Promise<void> {
    await this.fetch(this.othersHolding(this.lastSearch), this.lastSearch);
  }

  /**
   * DOWNLOAD of a SEARCH's file (`found`, which need not be the last one) from one of its holders,
   * or from all of them but this peer when `from` is undefined, watched and stoppable by `control`.
   */
  downloadFound(found: Found, from: HostPort | undefined, control: DownloadControl): Promise<DownloadResult> {
    return this.fetch(from ? [from] : this.othersHolding(found), found, control);
  }

  /**
   * Refuses a DOWNLOAD that cannot start yet — before any JOIN (no folder to save into) or any
   * SEARCH (no file) — so the menu says so before asking for a peer's address.
   */
  assertCanDownload(): void {
    this.downloadTarget(this.lastSearch);
  }

  /** Every holder of `found` but this peer; NOT_FOUND when there is none. */
  private othersHolding(found: Found | undefined): HostPort[] {
    const own = this.joinedAs && formatAddress(this.joinedAs.ip, this.joinedAs.port);
    const peers = (found?.peers ?? []).filter((peer) => peer !== own);
    if (found && peers.length === 0) {
      throw new NapError(
        'NOT_FOUND',
        `No other peer has ${found.file}: SEARCH found nobody to download it from.`,
      );
    }
    return peers.map((peer) => parseHostPort(peer));
  }

  /** The folder given at JOIN and the file `wanted`, or why a download cannot start. */
  private downloadTarget(wanted: Found | undefined): { joined: Joined; wanted: Found } {
    const joined = this.joinedAs;
    if (!joined)
      throw new NapError('NOT_JOINED', 'JOIN first: downloads are saved into the folder given at JOIN.');
    if (!wanted)
      throw new NapError('NO_SEARCH', 'SEARCH a file first: DOWNLOAD fetches the file of the last SEARCH.');
    return { joined, wanted };
  }

  private async fetch(
    addresses: HostPort[],
    found: Found | undefined,
    control: DownloadControl = {},
  ): Promise<DownloadResult> {
    const { joined, wanted } = this.downloadTarget(found);
    const sources = addresses.map((address) => this.policyOf(address, wanted));
    const progress = this.options.progress;
    let result: DownloadResult;
    try {
      result = await download({
        sources,
        file: wanted.file,
        folder: joined.folder,
        folderTyped: joined.folderTyped,
        log: this.log,
        signal: control.signal,
        onProgress: (state) => {
          progress?.update(wanted.file, state);
          control.onProgress?.(state);
        },
      });
    } finally {
      progress?.stop();
    }
    this.log(
      `saved ${result.path} (${result.size} bytes, SHA-256 ${result.sha256}) from ${result.usedSources.length} source(s)`,
    );
    if (!result.verified) this.notice(unverifiedNotice(wanted.file, result.usedSources[0] as Source));
    try {
      // UPDATE (seed 003, 5c): tell the index this peer now has the file too.
      await (await this.indexClient()).update(wanted.file);
    } finally {
      // The file is in the folder whatever the index says: report it, then any UPDATE failure.
      this.options.print(peerDownloadLine(wanted.file, joined.folderTyped));
    }
    return result;
  }

  /**
   * Whether `address` may be fetched unverified: only when the last SEARCH listed it and the
   * index said it announced no INFO (another implementation of the course).
   */
  private policyOf(address: HostPort, search: { peers: string[]; caps: HolderCaps }): Source {
    const listed = formatAddress(address.host, address.port);
    const plain = search.peers.includes(listed) && !hasCap(search.caps, listed, CAP_INFO);
    return plain ? { ...address, plain: true } : { ...address };
  }

  /** Leaves the index and stops serving; a download still running shows no more progress. Idempotent. */
  async close(): Promise<void> {
    this.options.progress?.close();
    this.client?.close();
    this.client = undefined;
    await this.fileServer?.close();
    this.fileServer = undefined;
  }

  /** A one-sentence notice for the user: the menu's board, or stderr. */
  private notice(message: string): void {
    if (this.options.notice) this.options.notice(message);
    else process.stderr.write(terminalLine(message));
  }

  /** The session with the index server (seed 002's requests ride on it), connected if need be. */
  async indexClient(): Promise<IndexClient> {
    if (this.client && !this.client.closed) return this.client;
    if (this.client) {
      this.log('the index session was lost; connecting again');
      this.client = undefined;
    }
    const { host, port } = this.options.server;
    // After a JOIN the client reconnects and re-joins by itself (stderr only: the transcript
    // must not show a second `Sou peer` line).
    this.client = await IndexClient.connect(host, port, {
      log: this.log,
      notice: (message) => this.notice(message),
      fallbacks: this.options.fallbacks,
    });
    const onPush = this.options.onPush;
    if (onPush) this.client.on('push', onPush);
    return this.client;
  }
}
