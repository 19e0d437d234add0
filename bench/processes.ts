/**
 * Running benchmark commands: wall time, each process's peak RSS and CPU time (GNU time's %M, %U
 * and %S for the reference tools; /proc/PID/status VmHWM and /proc/PID/stat for napshare's
 * processes, read while they run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';

/** What one process of a run cost. */
export interface Usage {
  /** Peak resident set size, bytes. */
  peakRss: number;
  /** CPU seconds, user + system, every thread (the kernel's work on its behalf included). */
  cpuSeconds: number;
}

export interface Finished extends Usage {
  code: number | null;
  stderr: string;
}

/** Starts `command` under GNU time; `done` resolves when it exits, with its peak RSS and CPU time. */
export function startTimed(
  command: string[],
  options: { stdin?: string; stdout?: string } = {},
): { child: ChildProcess; done: Promise<Finished> } {
  const shell = `exec /usr/bin/time -f 'PEAK_RSS_KB=%M CPU_S=%U+%S' ${command.map(quote).join(' ')}${options.stdin ? ` < ${quote(options.stdin)}` : ''}${options.stdout ? ` > ${quote(options.stdout)}` : ''}`;
  // Its own process group, so stopGroup() ends bash, time and the tool together.
  const child = spawn('bash', ['-c', shell], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<Finished>((resolve) =>
    child.on('close', (code) => {
      const cpu = /CPU_S=([\d.]+)\+([\d.]+)/.exec(stderr);
      resolve({
        code,
        peakRss: Number(/PEAK_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0) * 1024,
        cpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : 0,
        stderr,
      });
    }),
  );
  return { child, done };
}

/** Ends a command started by startTimed, with everything it started. */
export function stopGroup(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/** Peak RSS (VmHWM) of a running process, in bytes: the tests measure the same way. */
export { peakRssOf } from '../test/helpers/peak-rss.ts';

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ: 100 on Linux, `getconf CLK_TCK`). */
const CLOCK_TICKS_PER_S = 100;

/** CPU seconds (user + system, all threads) a running process has used so far: /proc/PID/stat. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/** The deepest first child of `pid` (bash -> time -> program: the program). */
export async function deepestChild(pid: number): Promise<number> {
  let current = pid;
  for (;;) {
    const children = (await fs.readFile(`/proc/${current}/task/${current}/children`, 'utf8').catch(() => ''))
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    if (children.length === 0) return current;
    current = Number(children[0]);
  }
}

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something listens on 127.0.0.1:port (read from /proc, without connecting). */
export async function listening(port: number, timeoutMs = 10_000): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const table = await fs.readFile('/proc/net/tcp', 'utf8');
    // State 0A is LISTEN.
    if (table.split('\n').some((line) => line.includes(`0100007F${hex} `) && / 0A /.test(line))) return;
    if (performance.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function commandExists(name: string): Promise<boolean> {
  const child = spawn('bash', ['-c', `command -v ${name}`], { stdio: 'ignore' });
  return new Promise((resolve) => child.on('close', (code) => resolve(code === 0)));
}

/** Installs Debian packages (as root, with apt) when their command is missing; false if it cannot. */
export async function ensureDebianTools(
  tools: { command: string; pkg: string }[],
  log: (line: string) => void,
): Promise<Set<string>> {
  const missing: string[] = [];
  for (const tool of tools) if (!(await commandExists(tool.command))) missing.push(tool.pkg);
  if (missing.length > 0 && process.getuid?.() === 0 && (await commandExists('apt-get'))) {
    log(`installing ${missing.join(' ')} (Debian packages) for the reference rows...`);
    await run('bash', [
      '-c',
      `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')} >/dev/null`,
    ]);
  }
  const present = new Set<string>();
  for (const tool of tools) if (await commandExists(tool.command)) present.add(tool.command);
  return present;
}

function run(command: string, args: string[]): Promise<number | null> {
  const child = spawn(command, args, { stdio: 'ignore' });
  return new Promise((resolve) => child.on('close', resolve));
}

/**
 * Writes every dirty page to disk (untimed, before each run): otherwise one run pays for the
 * writeback of the previous run's 2 GiB, whichever tool wrote it.
 */
export function flushDisks(): Promise<void> {
  const child = spawn('sync', [], { stdio: 'ignore' });
  return new Promise((resolve) => child.on('close', () => resolve()));
}
