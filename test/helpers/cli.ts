/**
 * Runs napshare's real CLI entry points (`server/main.ts`, `peer/main.ts`) as child processes,
 * the way a person or a script does, and reads their stdout/stderr line by line.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** tsx's loader, resolved here so children started in any folder find it. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const running = new Set<CliProcess>();

export class CliProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  /** Every byte written to each stream, exactly as written (the lines above are decoded). */
  private readonly raw: { stdout: Buffer[]; stderr: Buffer[] } = { stdout: [], stderr: [] };
  readonly exited: Promise<number | null>;
  private waiters: {
    stream: 'stdout' | 'stderr';
    test: (line: string) => boolean;
    resolve: (line: string) => void;
  }[] = [];

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    running.add(this);
    this.collect('stdout');
    this.collect('stderr');
    this.exited = new Promise((resolve) => {
      child.on('close', (code) => {
        running.delete(this);
        resolve(code);
      });
    });
  }

  /** The exact bytes the process wrote to `stream` so far. */
  bytes(stream: 'stdout' | 'stderr'): Buffer {
    return Buffer.concat(this.raw[stream]);
  }

  /** Writes one line to the process's stdin. */
  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Closes stdin (EOF) and resolves with the exit code. */
  async end(): Promise<number | null> {
    this.child.stdin.end();
    return this.exited;
  }

  /** Resolves with the first line (already seen or future) matching `pattern`. */
  waitFor(pattern: RegExp | string, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
    const test = (line: string) =>
      typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line);
    const seen = this[stream].find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ stream, test, resolve });
      void this.exited.then(() =>
        reject(
          new Error(
            `process exited before printing ${pattern} on ${stream}; stdout: ${this.stdout.join(' | ')}; stderr: ${this.stderr.join(' | ')}`,
          ),
        ),
      );
    });
  }

  /** Resolves once `stream` holds at least `count` lines. */
  async waitForLines(count: number, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string[]> {
    while (this[stream].length < count) await this.nextLine(stream);
    return this[stream].slice(0, count);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }

  private nextLine(stream: 'stdout' | 'stderr'): Promise<string> {
    return this.waitForAfter(stream, this[stream].length);
  }

  private waitForAfter(stream: 'stdout' | 'stderr', index: number): Promise<string> {
    return new Promise((resolve, reject) => {
      let seen = index;
      this.waiters.push({
        stream,
        test: () => ++seen > index,
        resolve,
      });
      void this.exited.then(() =>
        reject(
          new Error(
            `process exited with ${stream}: ${this[stream].join(' | ')}; stderr: ${this.stderr.join(' | ')}`,
          ),
        ),
      );
    });
  }

  private collect(stream: 'stdout' | 'stderr'): void {
    this.child[stream].on('data', (chunk: Buffer) => this.raw[stream].push(chunk));
    const lines = readline.createInterface({
      input: this.child[stream],
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    lines.on('line', (line) => {
      this[stream].push(line);
      const keep: typeof this.waiters = [];
      for (const waiter of this.waiters) {
        if (waiter.stream === stream && waiter.test(line)) waiter.resolve(line);
        else keep.push(waiter);
      }
      this.waiters = keep;
    });
  }
}

/** Starts `npm run server`/`npm run peer`'s entry point with `args` (no npm banner lines). */
export function runCli(
  program: 'server' | 'peer',
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliProcess {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, path.join(ROOT, program, 'main.ts'), ...args],
    {
      cwd: options.cwd ?? ROOT,
      // INIT_CWD (set when the tests run under `npm test`) would move the child to npm's folder.
      env: { ...process.env, INIT_CWD: undefined, NO_COLOR: '1', ...options.env },
      stdio: 'pipe',
    },
  );
  return new CliProcess(child);
}

/** Starts an index server on 127.0.0.1, a free port; resolves with the process and its port. */
export async function startServer(extraArgs: string[] = []): Promise<{ server: CliProcess; port: number }> {
  const server = runCli('server', ['--host', '127.0.0.1', '--port', '0', '--verbose', ...extraArgs]);
  const line = await server.waitFor(/listening on 127\.0\.0\.1:\d+/, 'stderr');
  const port = Number(/:(\d+)/.exec(line.slice(line.indexOf('listening on')))?.[1]);
  return { server, port };
}

/** Kills every process still running (afterEach/afterAll). */
export async function killAll(): Promise<void> {
  const all = [...running];
  for (const cli of all) cli.kill('SIGKILL');
  await Promise.all(all.map((cli) => cli.exited));
}
