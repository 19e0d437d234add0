/**
 * The course peer as users run it (`npm run peer`, line mode) in the stress suite: joined with a
 * folder, it serves it (`--keep-sharing`), and downloads on command; each command's outcome is
 * read from what the process prints — the course's success line on stdout, or one sentence on
 * stderr — within a deadline.
 */
import type { CliProcess } from '../helpers/cli.ts';
import { withDeadline } from '../helpers/wait.ts';
import type { StressContext } from './context.ts';
import type { Watched } from './processes.ts';

/** A download of tens of MB at a capped rate, with INFO retries, ends well within this. */
export const FETCH_TIMEOUT_MS = 120_000;

/** stderr lines that are not a command's outcome: logs and the index connection's notices. */
const NOT_AN_OUTCOME = /^\[peer\] |^Lost the index server |^Reconnected to the index server |^stdin ended; /;

export interface Outcome {
  ok: boolean;
  /** The success line, or the error sentence. */
  line: string;
}

export class PeerCli {
  private constructor(
    readonly process: Watched,
    /** The file server's port (JOIN with port 0). */
    readonly port: number,
    readonly folder: string,
  ) {}

  /** Starts a peer of the index at `indexPort` and JOINs with `folder` on 127.0.0.1, a free port. */
  static async start(
    ctx: StressContext,
    what: string,
    indexPort: number,
    folder: string,
    args: string[] = [],
  ): Promise<PeerCli> {
    const watched = ctx.cli('peer', ['--server', `127.0.0.1:${indexPort}`, '--keep-sharing', ...args], what);
    watched.cli.send(`JOIN 127.0.0.1 0 ${folder}`);
    const joined = await watched.waitFor(/^Sou peer 127\.0\.0\.1:\d+ /);
    return new PeerCli(watched, Number(/:(\d+) /.exec(joined)?.[1]), folder);
  }

  get cli(): CliProcess {
    return this.process.cli;
  }

  /** SEARCH `file`, then DOWNLOAD it from `port` on 127.0.0.1; resolves with what it printed. */
  async fetch(file: string, port: number, timeoutMs = FETCH_TIMEOUT_MS): Promise<Outcome> {
    const stdout = this.cli.stdout.length;
    const stderr = this.cli.stderr.length;
    this.cli.send(`SEARCH ${file}`);
    this.cli.send(`DOWNLOAD 127.0.0.1 ${port}`);
    return this.outcome(file, stdout, stderr, timeoutMs);
  }

  /** SEARCH `file`, then DOWNLOAD it from every holder the SEARCH listed (line mode's multi-source). */
  async fetchFromAll(file: string, timeoutMs = FETCH_TIMEOUT_MS): Promise<Outcome> {
    const stdout = this.cli.stdout.length;
    const stderr = this.cli.stderr.length;
    this.cli.send(`SEARCH ${file}`);
    this.cli.send('DOWNLOAD');
    return this.outcome(file, stdout, stderr, timeoutMs);
  }

  /** DOWNLOAD again from `port` (the file of the last SEARCH). */
  async fetchAgain(file: string, port: number, timeoutMs = FETCH_TIMEOUT_MS): Promise<Outcome> {
    const stdout = this.cli.stdout.length;
    const stderr = this.cli.stderr.length;
    this.cli.send(`DOWNLOAD 127.0.0.1 ${port}`);
    return this.outcome(file, stdout, stderr, timeoutMs);
  }

  private outcome(file: string, stdout: number, stderr: number, timeoutMs: number): Promise<Outcome> {
    const success = `Arquivo ${file} baixado com sucesso na pasta `;
    return withDeadline(
      Promise.race([
        lineAfter(this.cli, 'stdout', stdout, (line) => line.startsWith(success), timeoutMs).then((line) => ({
          ok: true,
          line,
        })),
        lineAfter(this.cli, 'stderr', stderr, (line) => !NOT_AN_OUTCOME.test(line), timeoutMs).then(
          (line) => ({
            ok: false,
            line,
          }),
        ),
      ]),
      timeoutMs,
      `the peer to finish downloading ${file}`,
    );
  }
}

/**
 * The first line of `stream` at or after `from` that passes `test`; rejects if the process exits
 * first or after `timeoutMs`.
 */
export async function lineAfter(
  cli: CliProcess,
  stream: 'stdout' | 'stderr',
  from: number,
  test: (line: string) => boolean,
  timeoutMs: number,
): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (let index = from; ; index++) {
    const line =
      cli[stream][index] ??
      (await cli.waitForLines(index + 1, stream, Math.max(0, deadline - performance.now())))[index];
    if (line !== undefined && test(line)) return line;
  }
}
