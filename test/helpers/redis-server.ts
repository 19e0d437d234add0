/**
 * A real redis-server (Debian's package) for tests and benchmarks: installed with apt when it is
 * missing and this runs as root, started on a free port of 127.0.0.1 without persistence
 * (`--save '' --appendonly no`), stopped by its PID. Nothing is left behind.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { freePort } from '../../bench/processes.ts';

/** How long redis-server may take to say it is ready: it starts in milliseconds, a busy CI runner is slower. */
const READY_TIMEOUT_MS = 15_000;

/** True when `command` is on the PATH. */
function found(command: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure redis-server and redis-benchmark (package redis-tools) are installed: with apt as
 * root when missing. Resolves with why they cannot be had, or undefined when they are there.
 */
export function ensureRedisInstalled(log: (line: string) => void = () => {}): string | undefined {
  if (found('redis-server') && found('redis-benchmark')) return undefined;
  if (process.getuid?.() !== 0 || !found('apt-get'))
    return 'redis-server is not installed and cannot be (apt-get as root: apt-get install redis-server redis-tools)';
  log('installing redis-server and redis-tools (Debian packages)...');
  const result = spawnSync(
    'bash',
    [
      '-c',
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null',
    ],
    { stdio: 'ignore' },
  );
  if (result.status !== 0 || !found('redis-server')) return 'apt-get could not install redis-server';
  return undefined;
}

export class RedisServer {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    readonly exited: Promise<void>,
  ) {}

  get pid(): number {
    return this.child.pid as number;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server on `port` (default: a free one) and resolves once it accepts connections. */
  static async start(port?: number): Promise<RedisServer> {
    const chosen = port ?? (await freePort());
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(chosen),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(
            `redis-server on port ${chosen} did not say it was ready in ${READY_TIMEOUT_MS} ms: ${output}`,
          ),
        );
      }, READY_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          // Keep draining, so a full pipe never stalls redis.
          child.stdout?.resume();
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server on port ${chosen} exited with ${code}: ${output.trim()}`));
      });
    });
    return new RedisServer(chosen, child, exited);
  }

  /** Stops it by its PID (SIGTERM, then SIGKILL after 5 s) and resolves once it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    process.kill(this.pid, signal);
    const timer = setTimeout(() => this.child.exitCode === null && process.kill(this.pid, 'SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
