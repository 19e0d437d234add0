/** Durations as people type and read them on the command line: "500ms", "30s", "10m", "2h". */
import { NapError } from '../../shared/errors.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "500ms", "30s", "10m", "1.5h"; a bare number is seconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  const ms = match
    ? Math.round(Number(match[1]) * (UNIT_MS[(match[2] ?? 's').toLowerCase()] ?? 1000))
    : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new NapError(
      'BAD_ARGUMENT',
      `${flag} needs a positive duration such as 500ms, 30s, 10m or 2h, not ${JSON.stringify(text)}.`,
    );
  }
  return ms;
}

/** "40 min", "45 s", "300 ms", "2 h": the largest unit that reads naturally. */
export function formatDuration(ms: number): string {
  if (ms >= 2 * 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  if (ms >= 1000) return `${Math.round(ms / 1000)} s`;
  return `${ms} ms`;
}
