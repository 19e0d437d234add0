/**
 * The processes of a stress run: napshare's real CLIs (test/helpers/cli.ts), each watched so that
 * an exit nobody asked for counts as a crash, and read for memory (/proc/PID/status).
 */
import { readFile } from 'node:fs/promises';
import { type CliProcess, runCli } from '../helpers/cli.ts';
import { withDeadline } from '../helpers/wait.ts';
import type { Row } from './report.ts';

/** How long a CLI has to start and print its first line on a busy 2-core machine. */
export const START_TIMEOUT_MS = 30_000;
/** How long a process has to exit once told to (SIGTERM) before it counts as hung. */
export const EXIT_TIMEOUT_MS = 15_000;

/** A CLI process whose unexpected exit is a crash of the row it is attacked in. */
export class Watched {
  private stopping = false;
  /** The row an exit counts against: the attack under way. */
  row: Row | undefined;

  constructor(
    readonly cli: CliProcess,
    readonly what: string,
  ) {
    void cli.exited.then((code) => {
      if (!this.stopping)
        this.row?.crash(
          `${what} exited with ${code} during the attack; stderr: ${cli.stderr.slice(-5).join(' | ')}`,
        );
    });
  }

  get pid(): number {
    return this.cli.child.pid as number;
  }

  get alive(): boolean {
    return this.cli.child.exitCode === null && this.cli.child.signalCode === null;
  }

  /** The first line matching `pattern`, within START_TIMEOUT_MS. */
  waitFor(pattern: RegExp | string, stream: 'stdout' | 'stderr' = 'stdout', ms = START_TIMEOUT_MS) {
    return this.cli.waitFor(pattern, stream, ms);
  }

  /** Stops it on purpose (SIGTERM, or SIGKILL for a crash the attack makes); resolves with its code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.stopping = true;
    if (this.alive) this.cli.kill(signal);
    return withDeadline(this.cli.exited, EXIT_TIMEOUT_MS, `${this.what} to exit after ${signal}`);
  }
}

export function startCli(
  program: 'server' | 'peer',
  args: string[],
  what: string,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Watched {
  return new Watched(runCli(program, args, options), what);
}

/** Resident memory of a process now, and its peak so far, in MiB. */
export async function memoryMiB(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}
