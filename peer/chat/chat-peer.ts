/**
 * The chat peer (seed 002's client): joins the index server with an alias and its folder, serves
 * that folder to other peers, and runs the typed commands. Lines for the user go through `print`
 * (stdout) and `notice` (stderr); failures are thrown as NapError for the console to report.
 */
import type { HostPort } from '../../shared/address.ts';
import { formatAddress } from '../../shared/address.ts';
import { CAP_INFO, hasCap, NAPSHARE_CAPS } from '../../shared/capabilities.ts';
import { describeError } from '../../shared/errors.ts';
import { assertAlias } from '../../shared/index-protocol.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import { downloadFile } from '../downloader.ts';
import { FileServer, type FileServerLimits } from '../file-server.ts';
import { IndexClient } from '../index-client.ts';
import { FolderCatalog, listSharedFiles, requireFolder } from '../shared-folder.ts';
import { unverifiedNotice } from '../transfer/download.ts';
import { CHAT_HELP, type ChatCommand } from './chat-commands.ts';
import {
  fetchedLine,
  joinedNotice,
  nickLine,
  pushLine,
  queryLines,
  registeredLine,
  sharingLine,
  showAllLines,
} from './chat-format.ts';

export interface ChatPeerOptions {
  alias: string;
  /** The folder as the user typed it: shared, and where /fetch saves. */
  folder: string;
  /** Address the file server binds and announces; port 0 picks a free one. */
  host: string;
  port: number;
  server: HostPort;
  /** Other servers of the same index (`--server A,B`): a lost session fails over to them. */
  fallbacks?: readonly HostPort[];
  print: (line: string) => void;
  notice: (line: string) => void;
  log?: Log;
  maxUploads?: number;
  fileServerLimits?: Partial<FileServerLimits>;
}

export class ChatPeer {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: ChatPeerOptions,
    private readonly folder: string,
    private readonly fileServer: FileServer,
    private readonly client: IndexClient,
    private alias: string,
  ) {
    client.on('push', (push) => options.print(pushLine(push)));
  }

  /** Serves the folder, then joins (seed 002 registerAtServer) with the alias and its files. */
  static async start(options: ChatPeerOptions): Promise<ChatPeer> {
    const log = options.log ?? silentLog;
    const alias = assertAlias(options.alias);
    const folder = await requireFolder(options.folder);
    const files = await listSharedFiles(folder, log);
    // Serve before announcing, so nobody is ever sent to an address that does not answer yet.
    const fileServer = await FileServer.start({
      host: options.host,
      port: options.port,
      catalog: new FolderCatalog(folder),
      maxUploads: options.maxUploads,
      limits: options.fileServerLimits,
      log,
    });
    try {
      const client = await IndexClient.connect(options.server.host, options.server.port, {
        log,
        notice: options.notice,
        fallbacks: options.fallbacks,
      });
      try {
        await client.join(options.host, fileServer.port, files, alias, NAPSHARE_CAPS);
      } catch (error) {
        client.close();
        throw error;
      }
      const peer = new ChatPeer(options, folder, fileServer, client, alias);
      const server = formatAddress(options.server.host, options.server.port);
      options.notice(joinedNotice(server, alias, files.length, peer.address));
      return peer;
    } catch (error) {
      await fileServer.close();
      throw error;
    }
  }

  /** The announced file-server address, `IP:port`. */
  get address(): string {
    return formatAddress(this.options.host, this.fileServer.port);
  }

  /** Runs one command; resolves with 'quit' when the user asked to leave. */
  async run(command: ChatCommand): Promise<'quit' | undefined> {
    switch (command.type) {
      case 'say':
        return this.onSay(command.text);
      case 'register':
        return this.onRegister();
      case 'showall':
        return this.printAll(showAllLines(await this.client.list(), this.address));
      case 'query':
        return this.printAll(queryLines(command.file, await this.client.query(command.file)));
      case 'setNick':
        await this.client.setAlias(command.alias);
        this.alias = command.alias;
        return this.printAll([nickLine(this.alias)]);
      case 'setSharedFiles':
        return this.onSetSharedFiles();
      case 'fetch':
        return this.onFetch(command.file, command.host, command.port);
      case 'help':
        return this.printAll(CHAT_HELP);
      case 'quit':
        return 'quit';
    }
  }

  /** Leaves the index (LEAVE, so the others see it) and stops serving. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.client.leave().catch(() => {});
      this.client.close();
      await this.fileServer.close();
    })();
    return this.closing;
  }

  // Plain text (seed 002 clientToServerHandler): to everyone else, through the server.
  private async onSay(text: string): Promise<undefined> {
    const delivered = await this.client.chat(text);
    if (delivered === 0) this.options.notice('Nobody else is in the chat right now.');
    return undefined;
  }

  // /register (seed 002 registerAtServer, done once at start): alias, port and the folder's files
  // as they are now, told to the server again.
  private async onRegister(): Promise<undefined> {
    const files = await listSharedFiles(this.folder, this.options.log);
    await this.client.setFiles(files);
    return this.printAll([registeredLine(this.alias, this.address, files)]);
  }

  // /setSharedFiles: the folder as it is now replaces the shared list.
  private async onSetSharedFiles(): Promise<undefined> {
    const files = await listSharedFiles(this.folder, this.options.log);
    await this.client.setFiles(files);
    return this.printAll([sharingLine(files)]);
  }

  // /fetch (seed 002 fetchFile): download with the transfer engine, then tell the index.
  private async onFetch(file: string, host: string, port: number): Promise<undefined> {
    const plain = await this.listedWithoutInfo(file, formatAddress(host, port));
    const result = await downloadFile({
      host,
      port,
      file,
      folder: this.folder,
      folderTyped: this.options.folder,
      log: this.options.log,
      plain,
    });
    if (!result.verified) this.options.notice(unverifiedNotice(file, { host, port }));
    this.options.print(fetchedLine(file, result.size, this.options.folder));
    await this.client.update(file);
    return undefined;
  }

  /**
   * Whether QUERY lists `address` as a holder of `file` that announced no INFO: only then may it be
   * fetched unverified. An index that cannot be asked vouches for nothing: verification it is.
   */
  private async listedWithoutInfo(file: string, address: string): Promise<boolean> {
    try {
      const { peers, caps } = await this.client.queryHolders(file);
      return peers.some((holder) => holder.address === address) && !hasCap(caps, address, CAP_INFO);
    } catch (error) {
      this.options.log?.(`/fetch: QUERY failed (${describeError(error)}); ${address} must be verified`);
      return false;
    }
  }

  private printAll(lines: readonly string[]): undefined {
    for (const line of lines) this.options.print(line);
    return undefined;
  }
}
