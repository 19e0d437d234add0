/** Byte sizes and rates as people type and read them ("50MB", "1.5GiB", "812.4 MB/s"). */
import { NapError } from './errors.ts';

const UNIT_BYTES: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** Parses "50MB", "50 MiB", "2g", "1048576" (decimal units: MB = 10^6, MiB = 2^20). */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*(?:\/s)?\s*$/i.exec(text);
  const unit = match ? UNIT_BYTES[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new NapError(
      'BAD_ARGUMENT',
      `Invalid size ${JSON.stringify(text)}: expected a number with an optional unit such as 50MB or 1GiB.`,
    );
  }
  const bytes = Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new NapError('BAD_ARGUMENT', `Invalid size ${JSON.stringify(text)}: it must be positive.`);
  }
  return bytes;
}

/** "1.07 GB", "812.4 MB", "12 B" (decimal units, like the rates people compare with). */
export function formatBytes(bytes: number): string {
  if (bytes < 1e3) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1e3;
  let unit = 0;
  while (value >= 1e3 && unit < units.length - 1) {
    value /= 1e3;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${units[unit]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}
