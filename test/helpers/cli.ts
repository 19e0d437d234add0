/**
 * Runs napshare's real CLI entry points (`server/main.ts`, `peer/main.ts`) as child processes,
 * the way a person or a script does, and reads their stdout/stderr line by line.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** tsx's loader, resolved here so children started in any folder find it. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const SCRIPTS: Record<string, string> = JSON.parse(
  readFileSync(path.join(ROOT, 'package.json'), 'utf8'),
).scripts;

/**
 * The command `npm run server` / `npm run peer` runs (package.json's script: `node FLAGS... main.ts`),
 * with this Node and tsx resolved here: the tests run the program with the flags people run it with.
 */
export function programCommand(program: 'server' | 'peer'): string[] {
  const words = (SCRIPTS[program] ?? '').split(' ');
  const main = words.at(-1) as string;
  if (words[0] !== 'node' || !main.endsWith('main.ts'))
    throw new Error(`unexpected script ${program}: ${SCRIPTS[program]}`);
  const flags = words.slice(1, -1).map((word) => (word === 'tsx' ? TSX_LOADER : word));
  return [process.execPath, ...flags, path.join(ROOT, main)];
}

const running = new Set<CliProcess>();

/**
 * How long a wait on a process's output lasts by default: well under vitest's 60 s test timeout,
 * so a failure says what was awaited and what the process printed instead of a bare timeout.
 */
export const WAIT_TIMEOUT_MS = 30_000;
/** Lines of each stream a failed wait shows (the latest ones). */
const SHOWN_LINES = 40;

type Stream = 'stdout' | 'stderr';

interface Waiter {
  stream: Stream;
  /** What is awaited, for the error message. */
  what: string;
  test: (line: string) => boolean;
  resolve: (line: string) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class CliProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  /** Every byte written to each stream, exactly as written (the lines above are decoded). */
  private readonly raw: { stdout: Buffer[]; stderr: Buffer[] } = { stdout: [], stderr: [] };
  readonly exited: Promise<number | null>;
  private waiters: Waiter[] = [];
  private exitCode: number | null | undefined;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    running.add(this);
    this.collect('stdout');
    this.collect('stderr');
    this.exited = new Promise((resolve) => {
      child.on('close', (code) => {
        running.delete(this);
        this.exitCode = code;
        for (const waiter of this.waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`process exited (code ${code}) ${this.describeWait(waiter)}`));
        }
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

  /**
   * Resolves with the first line (already seen or future) matching `pattern`; rejects when the
   * process exits first or after `timeoutMs`, with what was awaited and the output so far.
   */
  waitFor(pattern: RegExp | string, stream: Stream = 'stdout', timeoutMs = WAIT_TIMEOUT_MS): Promise<string> {
    const test = (line: string) =>
      typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line);
    const seen = this[stream].find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return this.wait(stream, test, `${pattern} on ${stream}`, timeoutMs);
  }

  /** Resolves once `stream` holds at least `count` lines (same deadline as waitFor). */
  async waitForLines(
    count: number,
    stream: Stream = 'stdout',
    timeoutMs = WAIT_TIMEOUT_MS,
  ): Promise<string[]> {
    const deadline = performance.now() + timeoutMs;
    while (this[stream].length < count) {
      const index = this[stream].length;
      let seen = index;
      await this.wait(
        stream,
        () => ++seen > index,
        `${count} lines on ${stream} (${index} so far)`,
        Math.max(0, deadline - performance.now()),
      );
    }
    return this[stream].slice(0, count);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }

  private wait(
    stream: Stream,
    test: (line: string) => boolean,
    what: string,
    timeoutMs: number,
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.exitCode !== undefined) {
        reject(new Error(`process exited (code ${this.exitCode}) before printing ${what}${this.output()}`));
        return;
      }
      const waiter: Waiter = {
        stream,
        what,
        test,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((other) => other !== waiter);
          reject(
            new Error(`timed out after ${(timeoutMs / 1000).toFixed(1)} s ${this.describeWait(waiter)}`),
          );
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private describeWait(waiter: Waiter): string {
    return `waiting for ${waiter.what}${this.output()}`;
  }

  /** The latest lines of both streams, for an error message. */
  private output(): string {
    const show = (stream: Stream) => {
      const lines = this[stream];
      const skipped = lines.length > SHOWN_LINES ? `  (${lines.length - SHOWN_LINES} earlier lines)\n` : '';
      return `${skipped}${lines
        .slice(-SHOWN_LINES)
        .map((line) => `  ${line}`)
        .join('\n')}`;
    };
    return `\n${this.child.spawnargs.slice(3).join(' ')}\nstdout so far:\n${show('stdout')}\nstderr so far:\n${show('stderr')}`;
  }

  private collect(stream: 'stdout' | 'stderr'): void {
    this.child[stream].on('data', (chunk: Buffer) => this.raw[stream].push(chunk));
    const lines = readline.createInterface({
      input: this.child[stream],
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    lines.on('line', (line) => {
      this[stream].push(line);
      const keep: Waiter[] = [];
      for (const waiter of this.waiters) {
        if (waiter.stream === stream && waiter.test(line)) {
          clearTimeout(waiter.timer);
          waiter.resolve(line);
        } else keep.push(waiter);
      }
      this.waiters = keep;
    });
  }
}

/** Starts `npm run server`/`npm run peer`'s entry point with `args` (no npm banner lines). */
export function runCli(
  program: 'server' | 'peer',
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; openFiles?: number } = {},
): CliProcess {
  const command = [...programCommand(program), ...args];
  // A lower limit on open files (soft and hard), set by the shell that then becomes the program.
  const limited =
    options.openFiles === undefined
      ? command
      : ['/bin/sh', '-c', `ulimit -n ${options.openFiles} && exec "$@"`, 'sh', ...command];
  const child = spawn(limited[0] as string, limited.slice(1), {
    cwd: options.cwd ?? ROOT,
    // INIT_CWD (set when the tests run under `npm test`) would move the child to npm's folder.
    env: { ...process.env, INIT_CWD: undefined, NO_COLOR: '1', ...options.env },
    stdio: 'pipe',
  });
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
