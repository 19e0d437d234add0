/**
 * Randomness a failing run can replay: one seed per test file and run, printed, taken from
 * NAPSHARE_TEST_SEED when set (e.g. `NAPSHARE_TEST_SEED=1234 npx vitest run FILE`).
 */
import { randomInt } from 'node:crypto';

/** This run's seed for `what` (printed once, so a failure's log says how to replay it). */
export function runSeed(what: string): number {
  const fromEnv = process.env.NAPSHARE_TEST_SEED;
  const seed = fromEnv === undefined || fromEnv === '' ? randomInt(2 ** 31) : Number(fromEnv);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new Error(`NAPSHARE_TEST_SEED must be a whole number, not ${JSON.stringify(fromEnv)}`);
  console.log(`${what}: random seed ${seed} (replay with NAPSHARE_TEST_SEED=${seed})`);
  return seed;
}

/** A small deterministic generator (mulberry32): numbers in [0, 1), the same for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer from `min` to `max` (both included), drawn from `random` (a seededRandom). */
export function randomIntFrom(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** One of `items`, drawn from `random`. */
export function pickFrom<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** `length` bytes drawn from `random`: the same seed gives the same bytes. */
export function randomBytesFrom(random: () => number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (random() * 256) | 0;
  return out;
}
