/**
 * napshare as people run it, for the benchmarks: an index server and CLI peers (line mode), the
 * uploaders sharing their folders, one downloader fetching on demand. The processes live for the
 * whole benchmark, so their peak RSS covers every run.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { type CliProcess, runCli, startServer } from '../test/helpers/cli.ts';
import { peakRssOf } from './processes.ts';

export interface UploaderSpec {
  folder: string;
  /** --max-upload-rate value, e.g. "100MB"; none: uncapped. */
  rate?: string;
}

export class NapshareRig {
  private constructor(
    private readonly server: CliProcess,
    readonly uploaders: { cli: CliProcess; address: string }[],
    private readonly downloader: CliProcess,
    private readonly downloadFolder: string,
  ) {}

  static async start(root: string, uploaders: UploaderSpec[], downloadFolder: string): Promise<NapshareRig> {
    const { server, port } = await startServer();
    const serverArg = ['--server', `127.0.0.1:${port}`];
    const started: { cli: CliProcess; address: string }[] = [];
    for (const spec of uploaders) {
      const cli = runCli('peer', [...serverArg, ...(spec.rate ? ['--max-upload-rate', spec.rate] : [])], {
        cwd: root,
      });
      cli.send(`JOIN 127.0.0.1 0 ${spec.folder}`);
      const address = /127\.0\.0\.1:\d+/.exec(await cli.waitFor('Sou peer'))?.[0] ?? '';
      started.push({ cli, address });
    }
    const downloader = runCli('peer', serverArg, { cwd: root });
    downloader.send(`JOIN 127.0.0.1 0 ${downloadFolder}`);
    await downloader.waitFor('Sou peer');
    return new NapshareRig(server, started, downloader, path.resolve(root, downloadFolder));
  }

  /**
   * Downloads `file` (from the first uploader, or from all of them: DOWNLOAD with no address),
   * then deletes the copy for the next run. Resolves with the seconds from command to result line.
   */
  async download(file: string, from: 'first' | 'all'): Promise<number> {
    await fs.rm(path.join(this.downloadFolder, file), { force: true });
    await this.command(`SEARCH ${file}`);
    const address = (this.uploaders[0] as { address: string }).address.replace(':', ' ');
    const started = performance.now();
    const line = await this.command(from === 'first' ? `DOWNLOAD ${address}` : 'DOWNLOAD');
    const seconds = (performance.now() - started) / 1000;
    if (!line.startsWith('Arquivo ')) throw new Error(`download failed: ${line}`);
    return seconds;
  }

  async peakRss(): Promise<{ uploaders: number[]; downloader: number }> {
    return {
      uploaders: await Promise.all(this.uploaders.map(({ cli }) => peakRssOf(cli.child.pid as number))),
      downloader: await peakRssOf(this.downloader.child.pid as number),
    };
  }

  async stop(): Promise<void> {
    await Promise.all([this.downloader, ...this.uploaders.map(({ cli }) => cli)].map((cli) => cli.end()));
    this.server.kill('SIGINT');
    await this.server.exited;
  }

  /** Sends one line command and resolves with its stdout line, or rejects with its stderr line. */
  private async command(line: string): Promise<string> {
    const out = this.downloader.stdout.length;
    const err = this.downloader.stderr.length;
    this.downloader.send(line);
    const result = await Promise.race([
      this.downloader.waitForLines(out + 1, 'stdout').then((lines) => lines[out] as string),
      this.downloader.waitForLines(err + 1, 'stderr').then((lines) => `error: ${lines[err]}`),
    ]);
    if (result.startsWith('error: ')) throw new Error(result);
    return result;
  }
}
