/**
 * The liveness check behind "no takeovers" (docs/protocol.md, "No takeovers"): when a connection
 * JOINs with an address (or alias) another connection holds, is that holder still there?
 * - its connection is closed: gone;
 * - it never sent PING: it cannot be asked (a course peer of seed 003 takes any unasked line for
 *   a reply), so it counts as there for as long as its connection is open;
 * - it sent a line less than `timeoutMs` ago: there;
 * - otherwise it is sent one PROBE and is there if any line arrives within `timeoutMs`.
 * One probe per holder at a time, and none while it was heard recently: a newcomer JOINing in a
 * loop makes the holder answer at most one PROBE per `timeoutMs`. Timers only, no sockets.
 */

/**
 * How long a holder has to answer a PROBE: many round trips on a busy LAN (napshare's peers
 * answer at once), and short enough that a peer restarted after a crash is back in 2 s.
 */
export const PROBE_TIMEOUT_MS = 2000;

export interface ProbeTarget {
  /** Its connection is closed (or being closed). */
  closed: boolean;
  /** It has sent PING: it knows the pushed PROBE and answers it. */
  optedIn: boolean;
  /** Pushes one PROBE to it. */
  send: () => void;
}

export class HolderProbe<Id> {
  // Last line heard from each connection (performance.now() ms); bounded by the connections.
  private readonly lastHeard = new Map<Id, number>();
  private readonly waiting = new Map<Id, { alive: Promise<boolean>; settle: (alive: boolean) => void }>();

  constructor(readonly timeoutMs = PROBE_TIMEOUT_MS) {}

  /** `id` sent a line: it is there (and answers a probe in flight). */
  heard(id: Id): void {
    this.lastHeard.set(id, performance.now());
    this.waiting.get(id)?.settle(true);
  }

  /** `id`'s connection closed: a probe in flight finds it gone. */
  forget(id: Id): void {
    this.lastHeard.delete(id);
    this.waiting.get(id)?.settle(false);
  }

  /** Resolves true when holder `id` is still there, false when it is proved gone. */
  isAlive(id: Id, target: ProbeTarget): Promise<boolean> {
    if (target.closed) return Promise.resolve(false);
    if (!target.optedIn) return Promise.resolve(true);
    const last = this.lastHeard.get(id);
    if (last !== undefined && performance.now() - last < this.timeoutMs) return Promise.resolve(true);
    const inFlight = this.waiting.get(id);
    if (inFlight !== undefined) return inFlight.alive;
    let settle: (alive: boolean) => void = () => {};
    const alive = new Promise<boolean>((resolve) => {
      // The listening socket keeps the server alive; a probe timer must not.
      const timer = setTimeout(() => settle(false), this.timeoutMs).unref();
      settle = (answer) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(answer);
      };
    });
    this.waiting.set(id, { alive, settle });
    target.send();
    return alive;
  }
}
