/**
 * napshare as people run it, for the benchmarks: an index server and CLI peers in line mode.
 * Uploaders are started once (a warm uploader: it has hashed its file already) or for one run (a
 * cold one: a fresh process that never hashed it). Every download is a fresh downloader process:
 * JOIN, SEARCH, then the time from the DOWNLOAD line to its `Arquivo ... baixado` line.
 */
import path from 'node:path';
import { type CliProcess, runCli, startServer } from '../test/helpers/cli.ts';
import { cpuSecondsOf, peakRssOf, type Usage } from './processes.ts';

export interface PeerProcess {
  cli: CliProcess;
  /** Announced address, "127.0.0.1:port". */
  address: string;
  pid: number;
  /** CPU seconds when it was asked to JOIN (a cold uploader's hashing counts from there). */
  cpuAtJoin: number;
}

export interface DownloadSample {
  /** From the DOWNLOAD line to the `Arquivo ... baixado` line. */
  seconds: number;
  downloader: Usage;
  /** Each uploader: CPU during the download (a cold one: since its JOIN), peak RSS so far. */
  uploaders: Usage[];
}

export class NapshareRig {
  private constructor(
    private readonly root: string,
    private readonly server: CliProcess,
    private readonly serverArg: string[],
  ) {}

  static async start(root: string): Promise<NapshareRig> {
    const { server, port } = await startServer();
    return new NapshareRig(root, server, ['--server', `127.0.0.1:${port}`]);
  }

  /** A peer that JOINed sharing `folder` (relative to the root); `rate`: --max-upload-rate. */
  async peer(folder: string, rate?: string): Promise<PeerProcess> {
    const cli = runCli('peer', [...this.serverArg, ...(rate ? ['--max-upload-rate', rate] : [])], {
      cwd: this.root,
    });
    const pid = cli.child.pid as number;
    const cpuAtJoin = await cpuSecondsOf(pid);
    cli.send(`JOIN 127.0.0.1 0 ${folder}`);
    const address = /127\.0\.0\.1:\d+/.exec(await cli.waitFor('Sou peer'))?.[0] ?? '';
    return { cli, address, pid, cpuAtJoin };
  }

  /**
   * One download of `file` by `downloader` (a fresh peer that JOINed its folder): SEARCH, then
   * DOWNLOAD from `from` (DOWNLOAD ip port) or from every holder (DOWNLOAD). The downloader
   * process ends afterwards. `cold` uploaders count their CPU from their JOIN.
   */
  async download(
    downloader: PeerProcess,
    file: string,
    from: PeerProcess | 'all',
    uploaders: PeerProcess[],
    cold = false,
  ): Promise<DownloadSample> {
    await command(downloader.cli, `SEARCH ${file}`);
    const before = await Promise.all(uploaders.map(({ pid }) => cpuSecondsOf(pid)));
    const downloaderBefore = await cpuSecondsOf(downloader.pid);
    const started = performance.now();
    const line = await command(
      downloader.cli,
      from === 'all' ? 'DOWNLOAD' : `DOWNLOAD ${from.address.replace(':', ' ')}`,
    );
    const seconds = (performance.now() - started) / 1000;
    if (!line.startsWith('Arquivo ')) throw new Error(`download failed: ${line}`);
    const usage = async (peer: PeerProcess, since: number): Promise<Usage> => ({
      cpuSeconds: (await cpuSecondsOf(peer.pid)) - since,
      peakRss: await peakRssOf(peer.pid),
    });
    const sample: DownloadSample = {
      seconds,
      downloader: await usage(downloader, downloaderBefore),
      uploaders: await Promise.all(
        uploaders.map((peer, i) => usage(peer, cold ? peer.cpuAtJoin : (before[i] as number))),
      ),
    };
    await downloader.cli.end();
    return sample;
  }

  /** Where a peer started with `folder` keeps its files. */
  folder(folder: string): string {
    return path.join(this.root, folder);
  }

  async stop(peers: PeerProcess[] = []): Promise<void> {
    await Promise.all(peers.map(({ cli }) => cli.end()));
    this.server.kill('SIGINT');
    await this.server.exited;
  }
}

/**
 * How long one command may take: a download of several GiB on a loaded 2-core machine runs for
 * minutes (an 8 GiB file at 50 MB/s: 3 minutes), far past the tests' 30 s.
 */
const COMMAND_TIMEOUT_MS = 15 * 60_000;

/** Sends one line command and resolves with its stdout line, or rejects with its stderr line. */
async function command(cli: CliProcess, line: string): Promise<string> {
  const out = cli.stdout.length;
  const err = cli.stderr.length;
  cli.send(line);
  const result = await Promise.race([
    cli.waitForLines(out + 1, 'stdout', COMMAND_TIMEOUT_MS).then((lines) => lines[out] as string),
    cli.waitForLines(err + 1, 'stderr', COMMAND_TIMEOUT_MS).then((lines) => `error: ${lines[err]}`),
  ]);
  if (result.startsWith('error: ')) throw new Error(result);
  return result;
}
