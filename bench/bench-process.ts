/**
 * Long-lived server processes under benchmark: napshare's index server started as people run it
 * (`node --import tsx server/main.ts`, its stdout to a file or /dev/null), and what /proc says
 * about any process (CPU time, resident memory, peak).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../test/helpers/cli.ts';

/** Seconds of CPU (user + system) `pid` has used so far. */
export function cpuSecondsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, in parentheses): utime is the 14th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** Linux's USER_HZ, what /proc/PID/stat counts in (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident (VmRSS) and peak resident (VmHWM) memory of `pid`, in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly stderr: () => string,
    readonly exited: Promise<number | null>,
  ) {}

  get pid(): number {
    return this.child.pid as number;
  }

  /**
   * Starts `node [nodeArgs] --import tsx server/main.ts --host 127.0.0.1 --port 0 [args]` with
   * stdout going to `stdoutPath` (a file it creates, or /dev/null); resolves with its port.
   * `root`: the checkout whose server it is (another version's, for comparisons).
   */
  static async start(
    args: string[],
    stdoutPath: string,
    nodeArgs: string[] = [],
    root = ROOT,
  ): Promise<ServerProcess> {
    const out = fs.openSync(stdoutPath, 'w');
    const child = spawn(
      process.execPath,
      [
        ...nodeArgs,
        '--import',
        'tsx',
        path.join(root, 'server', 'main.ts'),
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        ...args,
      ],
      { cwd: root, stdio: ['ignore', out, 'pipe'], env: { ...process.env, INIT_CWD: undefined } },
    );
    fs.closeSync(out);
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
      void exited.then((code) => reject(new Error(`the index server exited with ${code}: ${stderr.trim()}`)));
    });
    return new ServerProcess(child, port, () => stderr, exited);
  }

  /** Stops it as Ctrl+C does (stdout flushed) and resolves with its exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    return this.exited;
  }
}
