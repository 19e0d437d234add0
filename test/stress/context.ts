/**
 * One group of attacks as the stress suite runs it: its rows, its seed (the run's seed mixed with
 * the group's name, so a group replays alike whether run alone or with the others), its processes
 * and what must be cleaned up when it ends, however it ends.
 */
import { randomIntFrom, seededRandom } from '../helpers/seed.ts';
import { startCli, type Watched } from './processes.ts';
import type { Profile } from './profile.ts';
import { Row } from './report.ts';

export class StressContext {
  readonly rows: Row[] = [];
  readonly random: () => number;
  private readonly cleanups: (() => unknown)[] = [];
  private readonly watched: Watched[] = [];

  constructor(
    readonly group: string,
    readonly profile: Profile,
    readonly seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  /** Starts the next attack's row: a process that crashes from now on counts against it. */
  row(attack: string): Row {
    const row = new Row(attack);
    this.rows.push(row);
    for (const process of this.watched) process.row = row;
    this.log(`${attack}...`);
    return row;
  }

  /** The attack under way (the last row started). */
  get current(): Row | undefined {
    return this.rows.at(-1);
  }

  log(message: string): void {
    process.stderr.write(`[stress] ${this.group}: ${message}\n`);
  }

  /** Runs at the end of the group, last registered first. */
  defer(cleanup: () => unknown): void {
    this.cleanups.push(cleanup);
  }

  /** Starts a napshare CLI, killed at the end of the group if still running. */
  cli(
    program: 'server' | 'peer',
    args: string[],
    what: string,
    options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ): Watched {
    const watched = startCli(program, args, what, options);
    watched.row = this.current;
    this.watched.push(watched);
    this.defer(() => watched.stop('SIGKILL'));
    return watched;
  }

  /** An integer from `min` to `max`, from the group's seed. */
  int(min: number, max: number): number {
    return randomIntFrom(this.random, min, max);
  }

  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        this.log(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/** The seed of group `name` in a run seeded with `seed` (FNV-1a of the name, mixed in). */
export function groupSeed(seed: number, name: string): number {
  let hash = 0x811c9dc5;
  for (const char of name) hash = Math.imul(hash ^ (char.codePointAt(0) as number), 0x01000193) >>> 0;
  return (seed ^ hash) >>> 0;
}
