/**
 * Heartbeats (seed 002: a peer that is gone must be removed): a connection that has sent one PING
 * has opted in, and from then on a silence longer than the timeout means it is gone. A connection
 * that never sends PING (a course peer of seed 003, which knows nothing of heartbeats) is never
 * timed out: only its closed connection removes it. No sockets here: a timer per opted-in
 * connection, re-armed by every line it sends.
 */

/** Default silence after which an opted-in peer is dropped: three missed beats of 15 s. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 45_000;

export class HeartbeatWatch<Id> {
  // One timer per opted-in connection; bounded by the server's connection limit.
  private readonly timers = new Map<Id, NodeJS.Timeout>();

  constructor(
    readonly timeoutMs: number,
    private readonly onSilent: (id: Id) => void,
  ) {}

  /** `id` sent a PING: from now on it must keep talking. */
  optIn(id: Id): void {
    if (this.timers.has(id)) {
      this.seen(id);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(id);
      this.onSilent(id);
    }, this.timeoutMs);
    // The listening socket keeps the server alive; a watch timer must not.
    timer.unref();
    this.timers.set(id, timer);
  }

  /** `id` sent a line: it is alive (no-op unless it opted in). */
  seen(id: Id): void {
    this.timers.get(id)?.refresh();
  }

  /** True once `id` has sent a PING (and so knows napshare's pushed messages). */
  isWatching(id: Id): boolean {
    return this.timers.has(id);
  }

  forget(id: Id): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  get watched(): number {
    return this.timers.size;
  }

  /** Stops every timer. Idempotent. */
  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
