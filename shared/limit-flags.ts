/**
 * Command-line values of the servers' limits (connection caps, timeouts, buffer sizes), parsed
 * the same way by every main: a positive count, a duration in seconds (0 turns a timeout off), a
 * byte size. Each throws BAD_ARGUMENT with one sentence naming the flag.
 */
import { NapError } from './errors.ts';
import { parseByteSize } from './units.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
/** Longest timeout a Node timer holds (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A whole number from 1 to 2^31 - 1 ("64"). */
export function parseCountFlag(text: string, flag: string): number {
  const value = /^\s*\d{1,10}\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > 2 ** 31 - 1)
    throw new NapError('BAD_ARGUMENT', `${flag} needs a positive whole number, not ${JSON.stringify(text)}.`);
  return value;
}

/** A timeout in milliseconds from "30" (seconds), "1.5", "500ms", "10m", "1h"; "0" is never (0). */
export function parseTimeoutFlag(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h)?\s*$/i.exec(text);
  const ms = match
    ? Math.round(Number(match[1]) * (UNIT_MS[(match[2] ?? 's').toLowerCase()] ?? 1000))
    : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms > MAX_TIMEOUT_MS)
    throw new NapError(
      'BAD_ARGUMENT',
      `${flag} needs a duration such as 30 (seconds), 500ms, 10m or 0 (never), not ${JSON.stringify(text)}.`,
    );
  return ms;
}

/** A byte size ("100KiB", "64MiB", "1048576"); see parseByteSize. */
export function parseSizeFlag(text: string, flag: string): number {
  try {
    return parseByteSize(text);
  } catch (error) {
    throw new NapError(
      'BAD_ARGUMENT',
      `${flag} needs a size such as 100KiB or 64MiB, not ${JSON.stringify(text)}.`,
      { cause: error },
    );
  }
}

/** "30 s", "10 min", "never": a timeout as the usage texts show it. */
export function describeTimeout(ms: number): string {
  if (ms === 0) return 'never';
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
