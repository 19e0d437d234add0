/**
 * Slows down password guessing against the LAN file server: proofs from one address are judged
 * one at a time, and a wrong one holds that address for a second or two (growing with repeats,
 * bounded) before its verdict is sent. A guesser gets about one try a second per address, while a
 * person who mistyped waits a moment, never long: failures are forgotten after a quiet minute and
 * a correct proof clears them.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Hold after the first wrong proof from an address. */
export const FIRST_FAILURE_DELAY_MS = 1000;
/** Each further wrong proof holds this much longer... */
export const FAILURE_DELAY_STEP_MS = 250;
/** ...up to this: slow enough against guessing, short enough for the rightful user. */
export const MAX_FAILURE_DELAY_MS = 2000;
/** Failures older than this are forgotten: the count restarts for a person back later. */
export const FORGET_FAILURES_AFTER_MS = 60_000;
/**
 * Proofs from one address waiting their turn at most; more are refused at once (THROTTLED)
 * without being judged, so parallel connections do not buy extra guesses and waits stay short.
 */
export const MAX_WAITING_PER_ADDRESS = 4;
/**
 * Addresses tracked at most (the file server holds 256 connections at once, so busy ones always
 * fit); past it, the idle address with the oldest failure is forgotten first.
 */
export const MAX_TRACKED_ADDRESSES = 1024;

export type Verdict = 'OK' | 'FAILED' | 'THROTTLED';

export interface AuthThrottleOptions {
  firstDelayMs?: number;
  stepDelayMs?: number;
  maxDelayMs?: number;
  forgetAfterMs?: number;
  maxWaiting?: number;
  maxAddresses?: number;
  now?: () => number;
}

/** The hold after the `failures`-th wrong proof in a row (1 s, 1.25 s, ... capped at 2 s). */
export function failureDelayMs(
  failures: number,
  first = FIRST_FAILURE_DELAY_MS,
  step = FAILURE_DELAY_STEP_MS,
  max = MAX_FAILURE_DELAY_MS,
): number {
  if (failures <= 0) return 0;
  return Math.min(max, first + step * (failures - 1));
}

interface AddressState {
  failures: number;
  lastFailureMs: number;
  /** Proofs queued or being judged. */
  waiting: number;
  /** Settles when the proof ahead of the last queued one has its verdict (and hold) done. */
  tail: Promise<unknown>;
}

export class AuthThrottle {
  private readonly states = new Map<string, AddressState>();
  private readonly abort = new AbortController();
  private readonly options: Required<AuthThrottleOptions>;

  constructor(options: AuthThrottleOptions = {}) {
    this.options = {
      firstDelayMs: FIRST_FAILURE_DELAY_MS,
      stepDelayMs: FAILURE_DELAY_STEP_MS,
      maxDelayMs: MAX_FAILURE_DELAY_MS,
      forgetAfterMs: FORGET_FAILURES_AFTER_MS,
      maxWaiting: MAX_WAITING_PER_ADDRESS,
      maxAddresses: MAX_TRACKED_ADDRESSES,
      now: () => performance.now(),
      ...options,
    };
  }

  /**
   * Judges a proof from `address` with `verify` when its turn comes. A wrong proof resolves only
   * after the hold. Rejects (AbortError) if the throttle is closed meanwhile.
   */
  judge(address: string, verify: () => boolean): Promise<Verdict> {
    const state = this.stateOf(address);
    if (state.waiting >= this.options.maxWaiting) return Promise.resolve('THROTTLED');
    state.waiting++;
    const turn = state.tail.then(async (): Promise<Verdict> => {
      this.abort.signal.throwIfAborted();
      if (verify()) {
        state.failures = 0;
        return 'OK';
      }
      const now = this.options.now();
      if (now - state.lastFailureMs > this.options.forgetAfterMs) state.failures = 0;
      state.failures++;
      state.lastFailureMs = now;
      const { firstDelayMs, stepDelayMs, maxDelayMs } = this.options;
      await sleep(failureDelayMs(state.failures, firstDelayMs, stepDelayMs, maxDelayMs), undefined, {
        signal: this.abort.signal,
      });
      return 'FAILED';
    });
    state.tail = turn.catch(() => {});
    return turn.finally(() => {
      state.waiting--;
      if (state.waiting === 0 && state.failures === 0) this.states.delete(address);
    });
  }

  /** Wrong proofs in a row recorded for `address` (0 when none or forgotten). */
  failuresOf(address: string): number {
    return this.states.get(address)?.failures ?? 0;
  }

  /** Addresses tracked now. */
  get size(): number {
    return this.states.size;
  }

  /** Ends every hold at once (their judge() calls reject). Idempotent. */
  close(): void {
    this.abort.abort();
  }

  private stateOf(address: string): AddressState {
    const known = this.states.get(address);
    if (known) return known;
    this.evict();
    const state: AddressState = { failures: 0, lastFailureMs: 0, waiting: 0, tail: Promise.resolve() };
    this.states.set(address, state);
    return state;
  }

  /** Keeps the table under its bound: drops forgotten entries, then idle ones, oldest first. */
  private evict(): void {
    if (this.states.size < this.options.maxAddresses) return;
    const now = this.options.now();
    for (const [address, state] of this.states) {
      if (state.waiting === 0 && now - state.lastFailureMs > this.options.forgetAfterMs)
        this.states.delete(address);
    }
    const idle = [...this.states].filter(([, state]) => state.waiting === 0);
    idle.sort((a, b) => a[1].lastFailureMs - b[1].lastFailureMs);
    for (const [address] of idle) {
      if (this.states.size < this.options.maxAddresses) break;
      this.states.delete(address);
    }
  }
}
