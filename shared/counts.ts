/** Counts typed on the command line (`--max-peers 32`): whole numbers within a range. */
import { NapError } from './errors.ts';

/** Parses a whole number from `min` to `max` given for `flag`; throws BAD_ARGUMENT saying the range. */
export function parseCount(text: string, flag: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new NapError(
      'BAD_ARGUMENT',
      `${flag} needs an integer from ${min} to ${max}, not ${JSON.stringify(text)}.`,
    );
  }
  return value;
}
