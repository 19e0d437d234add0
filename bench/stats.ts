/** Medians, ranges and plain-text tables for the benchmarks. */
import type { Usage } from './processes.ts';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function range(values: readonly number[]): string {
  return `${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}`;
}

/** A table with a header row, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export const MB = 1e6;
export const MiB = 1024 * 1024;

/** One row of a benchmark table: a tool (or napshare variant) and what each of its runs cost. */
export interface Row {
  name: string;
  samples: { seconds: number; sender: Usage; receiver: Usage }[];
}

/** A row's figures for `size` bytes per run: MB/s (median, fastest, slowest), RSS, CPU per GB. */
export function formatRow(row: Row, size: number) {
  const rates = row.samples.map((sample) => size / MB / sample.seconds);
  const perGb = (side: 'sender' | 'receiver') =>
    median(row.samples.map((sample) => sample[side].cpuSeconds / (size / 1e9)));
  const peak = (side: 'sender' | 'receiver') =>
    Math.max(...row.samples.map((sample) => sample[side].peakRss));
  return {
    median: median(rates),
    fastest: Math.max(...rates),
    slowest: Math.min(...rates),
    senderRss: peak('sender'),
    receiverRss: peak('receiver'),
    senderCpuPerGb: perGb('sender'),
    receiverCpuPerGb: perGb('receiver'),
  };
}

export function rowTable(rows: Row[], size: number): string {
  const mib = (bytes: number) => (bytes > 0 ? `${(bytes / MiB).toFixed(0)} MiB` : '-');
  return table(
    [
      'tool',
      'median MB/s',
      'fastest',
      'slowest',
      'peak RSS sender',
      'peak RSS receiver',
      'CPU s/GB sender',
      'CPU s/GB receiver',
    ],
    rows.map((row) => {
      const f = formatRow(row, size);
      return [
        row.name,
        f.median.toFixed(0),
        f.fastest.toFixed(0),
        f.slowest.toFixed(0),
        mib(f.senderRss),
        mib(f.receiverRss),
        f.senderRss > 0 ? f.senderCpuPerGb.toFixed(2) : '-',
        f.receiverCpuPerGb.toFixed(2),
      ];
    }),
  );
}
