/**
 * The course peer (seed 003, section 5): JOIN, SEARCH and DOWNLOAD as the menu and the line
 * commands both run them. Prints exactly the console contract's lines through `print`; failures
 * are thrown as NapError for the caller to report on stderr.
 */
import type { HostPort } from '../shared/address.ts';
import { formatAddress } from '../shared/address.ts';
import { NapError } from '../shared/errors.ts';
import { type Log, silentLog } from '../shared/log.ts';
import { peerDownloadLine, peerJoinLine, peerSearchLine } from '../shared/messages.ts';
import { downloadFile } from './downloader.ts';
import { FileServer } from './file-server.ts';
import { IndexClient } from './index-client.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { FolderCatalog, listSharedFiles, requireFolder } from './shared-folder.ts';

export interface PeerSessionOptions {
  server: HostPort;
  /** Receives each console-contract line (the CLI writes them to stdout). */
  print: (line: string) => void;
  log?: Log;
  maxUploads?: number;
  limiter?: RateLimiter | undefined;
  onProgress?: (received: number, total: number) => void;
  /** Notices about the index session (lost, re-joined by itself); default: stderr. */
  notice?: (message: string) => void;
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
  private lastSearch: { file: string; peers: string[] } | undefined;
  private readonly log: Log;

  constructor(private readonly options: PeerSessionOptions) {
    this.log = options.log ?? silentLog;
  }

  get joined(): Joined | undefined {
    return this.joinedAs;
  }

  get lastSearchResult(): { file: string; peers: string[] } | undefined {
    return this.lastSearch;
  }

  // JOIN (seed 003, 5b and 5i): start the file server on IP:port, announce the folder's files.
  async join(ip: string, port: number, folderTyped: string): Promise<void> {
    const folder = await requireFolder(folderTyped);
    const files = await listSharedFiles(folder, this.log);
    // Serve before announcing, so nobody is ever sent to an address that does not answer yet.
    await this.fileServer?.close();
    this.fileServer = undefined;
    const fileServer = await FileServer.start({
      host: ip,
      port,
      catalog: new FolderCatalog(folder),
      maxUploads: this.options.maxUploads,
      limiter: this.options.limiter,
      log: this.log,
    });
    try {
      const client = await this.indexClient();
      await client.join(ip, fileServer.port, files);
    } catch (error) {
      await fileServer.close();
      throw error;
    }
    this.fileServer = fileServer;
    this.joinedAs = { ip, port: fileServer.port, folderTyped, folder };
    this.options.print(peerJoinLine(formatAddress(ip, fileServer.port), files));
  }

  // SEARCH (seed 003, 5d): ask the index who holds exactly `file`.
  async search(file: string): Promise<string[]> {
    const client = await this.indexClient();
    const peers = await client.search(file);
    this.lastSearch = { file, peers };
    this.options.print(peerSearchLine(peers));
    return peers;
  }

  // DOWNLOAD (seed 003, 5f, 5h, 5c): fetch the file of the last SEARCH from ip:port, then UPDATE.
  async download(ip: string, port: number): Promise<void> {
    const joined = this.joinedAs;
    if (!joined)
      throw new NapError('NOT_JOINED', 'JOIN first: downloads are saved into the folder given at JOIN.');
    const wanted = this.lastSearch;
    if (!wanted)
      throw new NapError('NO_SEARCH', 'SEARCH a file first: DOWNLOAD fetches the file of the last SEARCH.');
    const result = await downloadFile({
      host: ip,
      port,
      file: wanted.file,
      folder: joined.folder,
      log: this.log,
      onProgress: this.options.onProgress,
    });
    this.log(`saved ${result.path} (${result.size} bytes)`);
    try {
      await (await this.indexClient()).update(wanted.file);
    } finally {
      // The file is in the folder whatever the index says: report it, then any UPDATE failure.
      this.options.print(peerDownloadLine(wanted.file, joined.folderTyped));
    }
  }

  /** Leaves the index and stops serving. Idempotent. */
  async close(): Promise<void> {
    this.client?.close();
    this.client = undefined;
    await this.fileServer?.close();
    this.fileServer = undefined;
  }

  private async indexClient(): Promise<IndexClient> {
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
      notice: this.options.notice ?? ((message) => process.stderr.write(`${message}\n`)),
    });
    return this.client;
  }
}
