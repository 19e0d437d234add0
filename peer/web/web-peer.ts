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
import { type Log, silentLog } from '../../shared/log.ts';
import { type Found, PeerSession } from '../session.ts';
import { findSharedFile, listSharedFiles } from '../shared-folder.ts';
import { DownloadBoard, type DownloadView, MAX_RUNNING_DOWNLOADS } from './download-board.ts';
import { SPEED_SAMPLE_MS, SpeedHistory } from './speed-history.ts';
import { type ChatLine, type ChatState, WebChat } from './web-chat.ts';

export type { ChatLine } from './web-chat.ts';

/** Shared files listed with their sizes; a folder may hold more (the count says how many). */
export const MAX_LISTED_FILES = 1000;
/** Notices kept (lost server, unverified copy...): the newest. */
export const MAX_NOTICES = 20;
/** Progress is pushed at most this often: a page needs no more, a 1 GB/s download reports per read. */
export const PUSH_INTERVAL_MS = 250;

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
  chat: ChatState;
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
  /** Seed 002's chat; its methods (setAlias, say, peers, query) are the page's chat routes. */
  readonly chat: WebChat;
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
      onPush: (push) => this.chat.onPush(push),
    });
    this.chat = new WebChat(
      this.session,
      () => this.ownAddress(),
      (line) => this.emit('chat', line),
    );
  }

  snapshot(): WebState {
    const joined = this.session.joined;
    return {
      server: formatAddress(this.options.server.host, this.options.server.port),
      joined: joined ? { address: formatAddress(joined.ip, joined.port), folder: joined.folder } : null,
      shared: this.shared,
      search: this.searchView(),
      downloads: this.board.list(),
      chat: this.chat.state,
      notices: [...this.notices],
      speed: this.speed.values,
    };
  }

  // JOIN from the page: the course peer's JOIN (PeerSession.join), then the page's state.
  async join(ip: string, port: number, folder: string): Promise<WebState['joined']> {
    return this.joining.runExclusive(async () => {
      if (this.board.runningCount > 0)
        throw new NapError('IN_PROGRESS', 'Cancel or wait for the running downloads before joining again.');
      await this.session.join(ip, port, folder);
      this.found = undefined;
      await this.refreshShared();
      await this.chat.joined();
      this.emit('state');
      return this.snapshot().joined;
    });
  }

  // SEARCH from the page: the course peer's SEARCH (PeerSession.search).
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

  // ALIAS (seed 002 /setNick): the page then shows the alias.
  async setAlias(alias: string): Promise<string> {
    await this.chat.setAlias(alias);
    this.emit('state');
    return alias;
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

  private addNotice(text: string): void {
    const notice = { at: Date.now(), text };
    this.notices.push(notice);
    if (this.notices.length > MAX_NOTICES) this.notices.shift();
    this.emit('notice', notice);
  }
}
