/**
 * The peer table as printed on stdout each time it changes (issue 7: address, age, stability).
 * One header line, then one line per peer sorted by address; single spaces, fixed words, one
 * decimal of a second, so a script (or a test) can read it:
 *
 *   peers of 0.0.0.0:4201: 2 (1 active)
 *     127.0.0.1:4200 active age 0.3s stable 12.0s
 *     127.0.0.1:4202 pending age 1.2s stable 0.0s
 */
import type { PeerView } from './peer-table.ts';

export function formatPeerTable(self: string, rows: readonly PeerView[]): string[] {
  const active = rows.filter((row) => row.state === 'active').length;
  return [
    `peers of ${self}: ${rows.length} (${active} active)`,
    ...rows.map(
      (row) =>
        `  ${row.host}:${row.port} ${row.state} age ${seconds(row.ageMs)} stable ${seconds(row.stableMs)}`,
    ),
  ];
}

/** Reads one printed table back (the header line and the rows after it). */
export function parsePeerTable(
  lines: readonly string[],
): { self: string; peers: Map<string, string> } | undefined {
  const header = /^peers of (\S+): (\d+) \(\d+ active\)$/.exec(lines[0] ?? '');
  if (!header) return undefined;
  const count = Number(header[2]);
  const peers = new Map<string, string>();
  for (const line of lines.slice(1, 1 + count)) {
    const row = /^ {2}(\S+) (pending|active|inactive) age /.exec(line);
    if (!row) return undefined;
    peers.set(row[1] as string, row[2] as string);
  }
  return peers.size === count ? { self: header[1] as string, peers } : undefined;
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}
