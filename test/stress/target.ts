/**
 * A napshare TCP server as the connection attacks (connection-attacks.ts) see it: the real CLI
 * process, its caps and timeouts as it was started, the exact lines it owes a refused or
 * dismissed client (docs/protocol.md), how a client asks and never reads, and well-behaved
 * clients that use it throughout and check every answer.
 */
import type { AttackSocket } from '../helpers/attackers.ts';
import type { Watched } from './processes.ts';
import type { Row } from './report.ts';

/** Timeouts the attacked servers are started with: the attacks wait them out, so short. */
export const IDLE_TIMEOUT_S = 2;
export const LINE_TIMEOUT_S = 1.5;
export const STALL_TIMEOUT_S = 2;

/** Well-behaved traffic running beside an attack. */
export interface Serving {
  /** New connections of the well-behaved clients: held while the server is full on purpose. */
  admission: Admission;
  /** Ends the traffic; resolves once its last answer is in. */
  stop(): Promise<ServedTally>;
}

/**
 * Whether well-behaved clients open new connections now. While the server is full on purpose a
 * newcomer is owed the refusal line (the flood checks it), not service: hold() stops new ones and
 * resolves once the one under way is done, admit() lets them go on.
 */
export class Admission {
  private open = true;
  private current: Promise<unknown> = Promise.resolve();

  /** Runs `connect` (a newcomer's whole exchange) unless held; false when held. */
  async newcomer(connect: () => Promise<void>): Promise<boolean> {
    if (!this.open) return false;
    const running = connect();
    this.current = running.catch(() => {});
    await running;
    return true;
  }

  get admitting(): boolean {
    return this.open;
  }

  async hold(): Promise<void> {
    this.open = false;
    await this.current;
  }

  admit(): void {
    this.open = true;
  }
}

export interface ServedTally {
  /** Answers checked (each right, or counted wrong on the row). */
  answers: number;
  latenciesMs: number[];
}

export interface Target {
  /** "index server", "chat server", ... */
  name: string;
  process: Watched;
  port: number;
  /** Connections the server takes at once, and from one address. */
  maxConnections: number;
  maxPerIp: number;
  /** Connections the well-behaved clients hold (counted in maxConnections). */
  goodConnections: number;
  /** Addresses attacks come from: together they leave room under maxConnections. */
  attackers: string[];
  /** What a client is sent, exactly, when it is refused past the caps or dismissed. */
  lines: { perIp: (ip: string) => string; full: string; idle: string; unfinished: string };
  /**
   * What an admitted hostile socket got, less what every client of this server gets anyway (a
   * chat member hears the well-behaved members' lines): what is left must be its line alone.
   */
  ownText(socket: AttackSocket): string;
  /** ms after which an admitted client that sends nothing, or leaves a line unfinished, is dismissed. */
  idleMs: number;
  unfinishedMs: number;
  /** How a slowloris starts its never-ending line. */
  slowPrefix: string;
  /** Makes an admitted socket a client that asks for output and never reads it. */
  nonReader(socket: AttackSocket, index: number): Promise<void>;
  /**
   * How a non-reader ends: cut off by the server within `cutAfterMs` (`wasCut` tells, from what it
   * got once it reads again, that it was cut rather than served), or held harmlessly in its share
   * until the attacker quits.
   */
  nonReaderEnd: { cutAfterMs: number; wasCut: (socket: AttackSocket) => boolean } | { heldForMs: number };
  /** Resident memory the server may keep after an attack (its bounds plus a Node process). */
  memoryBudgetMiB: number;
  serve(row: Row): Serving;
  close(): Promise<void>;
}

/** What a well-behaved loop sees of its own Serving while it runs. */
export interface ServingLoop {
  readonly admission: Admission;
  /** True once stop() is called: the loop ends after the exchange under way. */
  readonly stopped: boolean;
  /** Counts one answer checked, asked at `started` (a performance.now() reading). */
  answered(started: number): void;
}

/**
 * The Serving of a loop of well-behaved clients: `run` starts it (at once, with its own
 * ServingLoop) and its promise settles once the loop has ended; stop() ends it, waits for that,
 * then runs `afterStop` (to release what the loop held) and resolves with the tally.
 */
export function serveLoop(
  run: (loop: ServingLoop) => Promise<void>,
  afterStop: () => void = () => {},
): Serving {
  let stopped = false;
  let answers = 0;
  const latenciesMs: number[] = [];
  const loop: ServingLoop = {
    admission: new Admission(),
    get stopped() {
      return stopped;
    },
    answered: (started) => {
      latenciesMs.push(performance.now() - started);
      answers++;
    },
  };
  const running = run(loop);
  return {
    admission: loop.admission,
    stop: async () => {
      stopped = true;
      await running;
      afterStop();
      return { answers, latenciesMs };
    },
  };
}

/** The p99 of `latencies`, in ms. */
export function p99(latencies: number[]): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Number.NaN;
}

/**
 * `running`, the loop of well-behaved clients, with its failure (no answer in time, a client
 * disconnected) counted as a wrong answer on `row` as soon as it happens: never an unhandled
 * rejection that would end the run before its table.
 */
export function counted(row: Row, running: Promise<void>, who: string): Promise<void> {
  return running.catch((error: unknown) =>
    row.wrongAnswer(`${who} stopped: ${error instanceof Error ? error.message : String(error)}`),
  );
}
