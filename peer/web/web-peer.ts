/**
 * The peer the web page drives: the course peer's own session (JOIN, SEARCH, DOWNLOAD, UPDATE:
 * peer/session.ts) with what a page needs on top — downloads that run side by side with live
 * progress, cancel and resume, their history, seed 002's chat when the index server offers it,
 * notices, and the speed chart. No HTTP here: web-routes.ts maps requests onto these methods and
 * web-server.ts pushes the events to the pages.
 */
import { EventEmitter } from 'node:events';
import { Mutex } from 'async-mutex';
import { formatAddress, type HostPort, parseHostPort } from '../../shared/address.ts';
import { CAP_INFO, hasCap } from '../../shared/capabilities.ts';
import { describeError, type ErrorCode, isNapError, NapError } from '../../shared/errors.ts';
import { assertSafeFileName } from '../../shared/file-names.ts';
import { assertAlias, chatTextProblem, type MemberPush } from '../../shared/index-protocol.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import { type Found, PeerSession } from '../session.ts';
import { findSharedFile, listSharedFiles } from '../shared-folder.ts';
import { DownloadBoard, type DownloadView, MAX_RUNNING_DOWNLOADS } from './download-board.ts';
import { SPEED_SAMPLE_MS, SpeedHistory } from './speed-history.ts';

/** Shared files listed with their sizes; a folder may hold more (the count says how many). */
export const MAX_LISTED_FILES = 1000;
/** Chat lines kept for a page that opens later: the newest. */
export const MAX_CHAT_LINES = 200;
/** Notices kept (lost server, unverified copy...): the newest. */
export const MAX_NOTICES = 20;
/** Progress is pushed at most this often: a page needs no more, a 1 GB/s download reports per read. */
export const PUSH_INTERVAL_MS = 250;

export type ChatLine =
  | { at: number; kind: 'message'; alias: string; from: string; text: string; own: boolean }
  | { at: number; kind: 'left'; alias: string | null; address: string; reason: string };

export interface Notice {
  at: number;
  text: string;
}

export interface SearchView {
  file: string;
  /** `verified`: the index lists the holder with INFO, so every piece is checked. */
  peers: { address: string; verified: boolean; you: boolean }[];
}

/** GET /api/state (docs/web.md). */
export interface WebState {
  server: string;
  joined: { address: string; folder: string } | null;
  shared: { files: { name: string; size: number }[]; total: number } | null;
  search: SearchView | null;
  downloads: DownloadView[];
  /** `offered`: null until a JOIN tells whether the index server has seed 002's chat. */
  chat: { offered: boolean | null; alias: string | null; lines: ChatLine[] };
  notices: Notice[];
  speed: number[];
}

interface WebPeerEvents {
  /** Something but the downloads' progress changed: pages fetch nothing, the snapshot is pushed. */
  state: [];
  downloads: [DownloadView[]];
  speed: [number[]];
  chat: [ChatLine];
  notice: [Notice];
}

interface Job {
  found: Found;
  from: HostPort | undefined;
  controller: AbortController | undefined;
}

export class WebPeer extends EventEmitter<WebPeerEvents> {
  private readonly session: PeerSession;
  private readonly board: DownloadBoard;
  private readonly speed = new SpeedHistory();
  private readonly jobs = new Map<number, Job>();
  /** JOINs one at a time: a second one replaces the file server the first one starts. */
  private readonly joining = new Mutex();
  private shared: WebState['shared'] = null;
  private found: Found | undefined;
  private chatOffered: boolean | null = null;
  private alias: string | null = null;
  private readonly lines: ChatLine[] = [];
  private readonly notices: Notice[] = [];
  /** Downloads under way, awaited by close() so that each releases its lock and `.part`. */
  private readonly running = new Set<Promise<void>>();
  private ticker: NodeJS.Timeout | undefined;
  private pushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: { server: HostPort; log?: Log; now?: () => number }) {
    super();
    const now = options.now ?? Date.now;
    this.board = new DownloadBoard(now);
    this.session = new PeerSession({
      server: options.server,
      log: options.log ?? silentLog,
      // The course lines are the page's state here; nothing goes to stdout.
      print: () => {},
      notice: (text) => this.addNotice(text),
      onPush: (push) => this.onPush(push),
    });
  }

  snapshot(): WebState {
    const joined = this.session.joined;
    return {
      server: formatAddress(this.options.server.host, this.options.server.port),
      joined: joined ? { address: formatAddress(joined.ip, joined.port), folder: joined.folder } : null,
      shared: this.shared,
      search: this.searchView(),
      downloads: this.board.list(),
      chat: { offered: this.chatOffered, alias: this.alias, lines: [...this.lines] },
      notices: [...this.notices],
      speed: this.speed.values,
    };
  }

  // JOIN (seed 003, 5b): serve `folder` on ip:port and announce its files.
  async join(ip: string, port: number, folder: string): Promise<WebState['joined']> {
    return this.joining.runExclusive(async () => {
      if (this.board.runningCount > 0)
        throw new NapError('IN_PROGRESS', 'Cancel or wait for the running downloads before joining again.');
      await this.session.join(ip, port, folder);
      this.alias = null; // a new JOIN carries no alias
      this.found = undefined;
      await this.refreshShared();
      this.chatOffered = await this.detectChat();
      this.emit('state');
      return this.snapshot().joined;
    });
  }

  // SEARCH (seed 003, 5d): who holds exactly `file`.
  async search(file: string): Promise<SearchView> {
    assertSafeFileName(file);
    await this.session.search(file);
    this.found = this.session.lastSearchResult;
    this.emit('state');
    return this.searchView() as SearchView;
  }

  /** Starts a download of the last SEARCH's `file`, from one holder or all (`from` = `all`). */
  startDownload(file: string, from: string): number {
    if (!this.session.joined)
      throw new NapError('NOT_JOINED', 'JOIN first: downloads are saved into the folder given at JOIN.');
    const found = this.found;
    if (!found || found.file !== file)
      throw new NapError(
        'NO_SEARCH',
        `SEARCH ${file} first: a download fetches a file the last SEARCH found.`,
      );
    const source = from === 'all' ? undefined : parseHostPort(from);
    this.checkRoom();
    const id = this.board.add(file, source ? formatAddress(source.host, source.port) : 'all');
    this.jobs.set(id, { found, from: source, controller: undefined });
    this.track(this.run(id));
    return id;
  }

  /** Cancels a running download: its verified pieces stay in the `.part`, for resume. */
  cancel(id: number): DownloadView {
    const job = this.jobs.get(id);
    const view = this.board.get(id);
    if (!job || !view) throw new NapError('NOT_FOUND', `There is no download ${id}.`);
    if (!job.controller) throw new NapError('BAD_REQUEST', `Download ${id} of ${view.file} is not running.`);
    job.controller.abort();
    return view;
  }

  /** Runs a failed or cancelled download again: it continues from the verified pieces kept. */
  resume(id: number): DownloadView {
    const view = this.board.get(id);
    if (!view || !this.jobs.has(id)) throw new NapError('NOT_FOUND', `There is no download ${id}.`);
    if (view.status === 'running' || view.status === 'done')
      throw new NapError(
        'BAD_REQUEST',
        `Download ${id} of ${view.file} is ${view.status}: nothing to resume.`,
      );
    this.checkRoom();
    this.board.restart(id);
    this.track(this.run(id));
    return view;
  }

  // ALIAS (seed 002 /setNick): makes this peer a chat member.
  async setAlias(alias: string): Promise<string> {
    assertAlias(alias);
    await (await this.chatClient()).setAlias(alias);
    this.alias = alias;
    this.emit('state');
    return alias;
  }

  // CHAT (seed 002 sendToAll): to every other member; resolves with how many got it.
  async say(text: string): Promise<number> {
    const problem = chatTextProblem(text);
    if (problem) throw new NapError('BAD_REQUEST', `The message cannot be sent: ${problem}.`);
    const client = await this.chatClient();
    if (this.alias === null) throw new NapError('BAD_REQUEST', 'Choose an alias before chatting.');
    const delivered = await client.chat(text);
    this.addLine({
      at: Date.now(),
      kind: 'message',
      alias: this.alias,
      from: this.ownAddress() ?? '',
      text,
      own: true,
    });
    return delivered;
  }

  // LIST (seed 002 /showall): the online peers.
  async peers(): Promise<{ address: string; alias: string | null; fileCount: number; you: boolean }[]> {
    const own = this.ownAddress();
    return (await (await this.chatClient()).list()).map((peer) => ({
      address: peer.address,
      alias: peer.alias ?? null,
      fileCount: peer.fileCount,
      you: peer.address === own,
    }));
  }

  // QUERY (seed 002 /query): who holds exactly `file`, with aliases.
  async query(
    file: string,
  ): Promise<{ file: string; holders: { address: string; alias: string | null; verified: boolean }[] }> {
    assertSafeFileName(file);
    const { peers, caps } = await (await this.chatClient()).queryHolders(file);
    return {
      file,
      holders: peers.map((holder) => ({
        address: holder.address,
        alias: holder.alias ?? null,
        verified: hasCap(caps, holder.address, CAP_INFO),
      })),
    };
  }

  /** Cancels every download (each keeps its `.part`), leaves the index and stops serving. */
  async close(): Promise<void> {
    for (const job of this.jobs.values()) job.controller?.abort();
    await Promise.allSettled([...this.running]);
    clearInterval(this.ticker);
    clearTimeout(this.pushTimer);
    await this.session.close();
  }

  private async run(id: number): Promise<void> {
    const job = this.jobs.get(id) as Job;
    const controller = new AbortController();
    job.controller = controller;
    this.startTicker();
    this.pushDownloads(true);
    try {
      const result = await this.session.downloadFound(job.found, job.from, {
        signal: controller.signal,
        onProgress: (progress) => {
          this.board.progress(id, progress);
          this.pushDownloads(false);
        },
      });
      this.board.succeeded(id, result);
      await this.refreshShared();
      this.emit('state');
    } catch (error) {
      const code: ErrorCode = isNapError(error) ? error.code : 'IO';
      this.board.failed(id, { code, message: describeError(error) }, code === 'CANCELLED');
    } finally {
      job.controller = undefined;
      this.forgetEndedJobs();
      this.pushDownloads(true);
      if (this.board.runningCount === 0) this.stopTicker();
    }
  }

  private track(download: Promise<void>): void {
    this.running.add(download);
    void download.finally(() => this.running.delete(download));
  }

  private checkRoom(): void {
    if (this.board.runningCount >= MAX_RUNNING_DOWNLOADS)
      throw new NapError('BUSY', `${MAX_RUNNING_DOWNLOADS} downloads are running; wait for one to end.`);
  }

  /** Jobs whose download the board no longer shows (history bound) are dropped with it. */
  private forgetEndedJobs(): void {
    for (const id of this.jobs.keys()) if (!this.board.get(id)) this.jobs.delete(id);
  }

  /** Coalesces progress into one push per PUSH_INTERVAL_MS; `now` pushes at once (a state change). */
  private pushDownloads(now: boolean): void {
    if (now) {
      clearTimeout(this.pushTimer);
      this.pushTimer = undefined;
      this.emit('downloads', this.board.list());
      return;
    }
    this.pushTimer ??= setTimeout(() => {
      this.pushTimer = undefined;
      this.emit('downloads', this.board.list());
    }, PUSH_INTERVAL_MS);
  }

  // The speed chart: one sample a second while something downloads, nothing when idle.
  private startTicker(): void {
    if (this.ticker) return;
    this.speed.sample(this.board.bytesReceived, Date.now());
    this.ticker = setInterval(() => {
      this.speed.sample(this.board.bytesReceived, Date.now());
      this.emit('speed', this.speed.values);
    }, SPEED_SAMPLE_MS);
  }

  private stopTicker(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.speed.pause();
  }

  private searchView(): SearchView | null {
    const found = this.found;
    if (!found) return null;
    const own = this.ownAddress();
    return {
      file: found.file,
      peers: found.peers.map((address) => ({
        address,
        verified: hasCap(found.caps, address, CAP_INFO),
        you: address === own,
      })),
    };
  }

  private ownAddress(): string | undefined {
    const joined = this.session.joined;
    return joined && formatAddress(joined.ip, joined.port);
  }

  /** The folder's shared files with their sizes (the first MAX_LISTED_FILES), as the file server serves them. */
  private async refreshShared(): Promise<void> {
    const joined = this.session.joined;
    if (!joined) return;
    const names = await listSharedFiles(joined.folder);
    const files: { name: string; size: number }[] = [];
    for (const name of names.slice(0, MAX_LISTED_FILES)) {
      const file = await findSharedFile(joined.folder, name).catch(() => undefined);
      if (file) files.push({ name, size: file.size });
    }
    this.shared = { files, total: names.length };
  }

  /**
   * Whether the index server has seed 002's requests: a LIST answered with LIST_OK. A server of
   * another implementation answers ERROR (or something else); one unreachable now tells nothing.
   */
  private async detectChat(): Promise<boolean | null> {
    try {
      await (await this.session.indexClient()).list();
      return true;
    } catch (error) {
      if (isNapError(error) && UNREACHABLE.has(error.code)) return null;
      return false;
    }
  }

  private async chatClient() {
    if (!this.session.joined) throw new NapError('NOT_JOINED', 'JOIN first: the chat is for joined peers.');
    if (this.chatOffered === false)
      throw new NapError('BAD_REQUEST', `The index server at ${this.snapshot().server} does not offer chat.`);
    return this.session.indexClient();
  }

  private onPush(push: MemberPush): void {
    const at = Date.now();
    if (push.type === 'CHAT')
      this.addLine({ at, kind: 'message', alias: push.alias, from: push.from, text: push.text, own: false });
    else
      this.addLine({
        at,
        kind: 'left',
        alias: push.alias ?? null,
        address: push.address,
        reason: push.reason,
      });
  }

  private addLine(line: ChatLine): void {
    this.lines.push(line);
    if (this.lines.length > MAX_CHAT_LINES) this.lines.shift();
    this.emit('chat', line);
  }

  private addNotice(text: string): void {
    const notice = { at: Date.now(), text };
    this.notices.push(notice);
    if (this.notices.length > MAX_NOTICES) this.notices.shift();
    this.emit('notice', notice);
  }
}

/** Failures that say the index server cannot be reached now, not what it can do. */
const UNREACHABLE: ReadonlySet<ErrorCode> = new Set(['CONNECT_FAILED', 'CONNECTION_CLOSED', 'TIMEOUT']);
