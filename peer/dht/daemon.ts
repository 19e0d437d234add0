/**
 * The DHT daemon (seed 000, 3.1: "un démon ... manipulable au travers d'une socket TCP"): a DHT
 * node, a file server for what it publishes, and a local control socket. One handler per control
 * command; each returns the lines of its answer.
 */
import path from 'node:path';
import { formatAddress, type HostPort } from '../../shared/address.ts';
import { describeError, NapError } from '../../shared/errors.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import { downloadFile, isFolderError } from '../downloader.ts';
import { FileServer, type FileServerLimits } from '../file-server.ts';
import { listSharedFiles, requireFolder } from '../shared-folder.ts';
import type { Bootstrap } from './bootstrap.ts';
import {
  formatClean,
  formatDownloaded,
  formatPublish,
  formatSearch,
  formatStatus,
} from './control-answers.ts';
import { type ControlCommand, HELP_LINES, parseControlCommand } from './control-commands.ts';
import { type ControlAnswer, type ControlLimits, ControlServer } from './control-server.ts';
import { DhtNode } from './dht-node.ts';
import { PublishedCatalog } from './published-catalog.ts';
import { Publisher, RETRY_MAX_MS } from './publisher.ts';
import { searchHolders } from './search.ts';

/** The control socket is for local clients only (seed 000: "un client local"). */
export const CONTROL_HOST = '127.0.0.1';
/** The usual Mainline DHT port (BitTorrent clients use 6881 and up). */
export const DEFAULT_DHT_PORT = 6881;
/** Control port by default: next to the DHT's, easy to type after `nc 127.0.0.1`. */
export const DEFAULT_CONTROL_PORT = 6880;

export interface DhtDaemonOptions {
  /** Absolute folder downloads go to. */
  dir: string;
  /** Address the DHT (UDP) and file server (TCP) bind. */
  host: string;
  /** File server TCP port (0: any free port). */
  port: number;
  /** DHT UDP port (0: any free port). */
  dhtPort: number;
  /** Control TCP port on 127.0.0.1 (0: any free port); null: no control socket. */
  controlPort: number | null;
  bootstrap: Bootstrap;
  /** Folder `publish DIR` is relative to (default: the process's working directory). */
  cwd?: string;
  announceIntervalMs?: number;
  peerMaxAgeMs?: number;
  confirmTimeoutMs?: number;
  queryTimeoutMs?: number;
  /** The file server's and the control socket's caps and timeouts. */
  maxUploads?: number;
  fileServerLimits?: Partial<FileServerLimits>;
  controlLimits?: Partial<ControlLimits>;
  /** Holders kept per lookup (--max-results). */
  maxResults?: number;
  /** DHT lookups in flight at once (--max-lookups). */
  maxLookups?: number;
  /** Files published at once (--max-files). */
  maxFiles?: number;
  /** Keys announced at once (--max-keys). */
  maxKeys?: number;
  /** First wait and cap of the backoff for keys no node took (tests shorten them). */
  retryFirstMs?: number;
  retryMaxMs?: number;
  log?: Log;
}

export class DhtDaemon {
  private closing: Promise<void> | undefined;
  private readonly log: Log;

  private constructor(
    readonly node: DhtNode,
    readonly fileServer: FileServer,
    readonly publisher: Publisher,
    readonly control: ControlServer | null,
    private readonly options: DhtDaemonOptions,
  ) {
    this.log = options.log ?? silentLog;
  }

  static async start(options: DhtDaemonOptions): Promise<DhtDaemon> {
    const log = options.log ?? silentLog;
    const catalog = new PublishedCatalog(options.maxFiles);
    const opened: { close(): unknown }[] = [];
    try {
      const fileServer = await FileServer.start({
        host: options.host,
        port: options.port,
        catalog,
        maxUploads: options.maxUploads,
        limits: options.fileServerLimits,
        log,
      });
      opened.push(fileServer);
      const node = await DhtNode.start({
        host: options.host,
        port: options.dhtPort,
        bootstrap: options.bootstrap,
        peerMaxAgeMs: options.peerMaxAgeMs,
        queryTimeoutMs: options.queryTimeoutMs,
        maxResults: options.maxResults,
        maxLookups: options.maxLookups,
        log,
      });
      opened.push(node);
      const publisher = new Publisher(node, catalog, {
        filePort: fileServer.port,
        announceIntervalMs: options.announceIntervalMs,
        retryFirstMs: options.retryFirstMs,
        retryMaxMs: options.retryMaxMs,
        maxKeys: options.maxKeys,
        log,
      });
      opened.push(publisher);
      let daemon: DhtDaemon | undefined;
      const control =
        options.controlPort === null
          ? null
          : await ControlServer.start({
              host: CONTROL_HOST,
              port: options.controlPort,
              handle: (line) => (daemon as DhtDaemon).run(line),
              limits: options.controlLimits,
              log,
            });
      daemon = new DhtDaemon(node, fileServer, publisher, control, options);
      return daemon;
    } catch (error) {
      await Promise.all(opened.map((part) => part.close()));
      throw error;
    }
  }

  /** The folder downloads go to. */
  get dir(): string {
    return this.options.dir;
  }

  /** Runs one control line: what the control socket does with each line, without the socket. */
  async run(line: string): Promise<ControlAnswer> {
    let command: ControlCommand;
    try {
      command = parseControlCommand(line);
    } catch (error) {
      return { lines: [describeError(error)] };
    }
    try {
      return await this.dispatch(command);
    } catch (error) {
      return { lines: [describeError(error)] };
    }
  }

  /** Leaves the DHT, stops serving, closes the control socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.publisher.close();
      await Promise.all([this.control?.close(), this.node.close(), this.fileServer.close()]);
    })();
    return this.closing;
  }

  private dispatch(command: ControlCommand): Promise<ControlAnswer> {
    switch (command.type) {
      case 'help':
        return Promise.resolve({ lines: [...HELP_LINES] });
      case 'search':
        return this.onSearch(command.keyword, command.all);
      case 'publish':
        return this.onPublish(command.dir);
      case 'clean':
        return Promise.resolve(this.onClean());
      case 'get':
        return this.onGet(command.name, command.from);
      case 'status':
        return Promise.resolve(this.onStatus());
      case 'quit':
        return Promise.resolve({ lines: ['Bye.'], close: true });
    }
  }

  // search (seed 000, 3.2: the DHT's get).
  private async onSearch(keyword: string, all: boolean): Promise<ControlAnswer> {
    const holders = await searchHolders(this.node, keyword, this.searchOptions());
    return { lines: formatSearch(keyword, holders, all) };
  }

  // publish (seed 000, 3.3: the DHT's put), DIR relative to the folder the daemon was started in.
  // It also retries now every key no node took so far.
  private async onPublish(dir: string): Promise<ControlAnswer> {
    const folder = await requireFolder(dir, this.options.cwd);
    const names = await listSharedFiles(folder, this.log);
    const outcome = await this.publisher.publish(
      names.map((name) => ({ name, path: path.join(folder, name) })),
    );
    const retry = {
      retryInMs: this.publisher.nextRetryInMs,
      retryMaxMs: this.options.retryMaxMs ?? RETRY_MAX_MS,
    };
    return { lines: formatPublish(outcome, dir, retry) };
  }

  // clean (seed 000, 3.4: the DHT's remove; the Mainline DHT has none, entries expire).
  private onClean(): ControlAnswer {
    return { lines: formatClean(this.publisher.clean(), this.node.peerMaxAgeMs) };
  }

  // get (seed 000, 23: download what a search found) into --dir, trying each holder in turn.
  private async onGet(name: string, from: HostPort | undefined): Promise<ControlAnswer> {
    const sources = from ? [from] : await this.confirmedHolders(name);
    if (sources.length === 0) return { lines: [`Cannot find ${name}`] };
    let lastError: unknown;
    for (const source of sources) {
      const where = formatAddress(source.host, source.port);
      try {
        const result = await downloadFile({ ...source, file: name, folder: this.options.dir, log: this.log });
        return { lines: formatDownloaded(name, where, result.path, result.size) };
      } catch (error) {
        // The file is already here, being downloaded, or the folder fails: no other holder can help.
        if (isFolderError(error)) throw error;
        this.log(`get: ${where} failed: ${describeError(error)}`);
        lastError = error;
      }
    }
    throw new NapError('CONNECT_FAILED', `Could not download ${name}: ${describeError(lastError)}`);
  }

  private onStatus(): ControlAnswer {
    return {
      lines: formatStatus({
        nodeId: this.node.id,
        dhtPort: this.node.port,
        filePort: this.fileServer.port,
        routingTableSize: this.node.nodeCount,
        datagrams: { ...this.node.datagrams },
        published: this.publisher.catalog.names(),
        keys: this.publisher.keyCount,
        pending: this.publisher.pendingCount,
        waiting: this.publisher.waiting,
        retryInMs: this.publisher.nextRetryInMs,
      }),
    };
  }

  /** Holders that confirm serving exactly `name`. */
  private async confirmedHolders(name: string): Promise<HostPort[]> {
    const holders = await searchHolders(this.node, name, this.searchOptions());
    return holders.filter((holder) => holder.names?.includes(name)).map((holder) => holder.address);
  }

  private searchOptions() {
    return { confirmTimeoutMs: this.options.confirmTimeoutMs, log: this.log };
  }
}
