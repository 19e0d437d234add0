/**
 * The text of the daemon's answers (seed 000, 16-19: gprint). Pure: data in, lines out. Every
 * answer is one or more non-empty lines; the control server ends each with an empty line.
 */
import { formatAddress } from '../../shared/address.ts';
import { formatBytes } from '../../shared/units.ts';
import { formatDuration } from './durations.ts';
import type { PublishOutcome } from './publisher.ts';
import type { Holder } from './search.ts';

/** Published names listed by `status`: the rest is counted, a terminal is not a file listing. */
const MAX_STATUS_NAMES = 100;

/**
 * `search` (seed 000, 16: "KEYWORD found." or "Cannot find KEYWORD"), then one line per confirmed
 * name `IP:PORT NAME`, and with `all` one line per unconfirmed holder `IP:PORT ?`.
 */
export function formatSearch(keyword: string, holders: readonly Holder[], all: boolean): string[] {
  const sorted = [...holders].sort((a, b) => compareAddress(a, b));
  const lines: string[] = [];
  for (const holder of sorted) {
    const where = formatAddress(holder.address.host, holder.address.port);
    if (holder.names !== null) for (const name of holder.names) lines.push(`${where} ${name}`);
  }
  if (all) {
    for (const holder of sorted) {
      if (holder.names === null) lines.push(`${formatAddress(holder.address.host, holder.address.port)} ?`);
    }
  }
  return lines.length === 0 ? [`Cannot find ${keyword}`] : [`${keyword} found.`, ...lines];
}

/** `publish` (seed 000, 19: how many files were published). */
export function formatPublish(outcome: PublishOutcome, dir: string): string[] {
  const files = plural(outcome.files, 'file');
  if (outcome.files === 0) return [`Published 0 files: ${dir} has no regular file to share.`];
  if (outcome.waiting)
    return [`Published ${files} from ${dir}; no DHT node known yet, announced as soon as one is.`];
  const lines = [`Published ${files} from ${dir}.`];
  if (outcome.failed > 0)
    lines.push(
      `${plural(outcome.failed, 'key')} not announced yet (no node took them); retried at the next re-announce.`,
    );
  return lines;
}

/**
 * `clean` (seed 000, 20). The Mainline DHT has no delete: other napshare nodes drop an entry 2/3
 * to 4/3 of their peer max age after its last announce (their store is swept every 2/3 of it).
 */
export function formatClean(removed: number, peerMaxAgeMs: number): string[] {
  return [
    `Removed ${plural(removed, 'file')}.`,
    `The DHT has no delete: other nodes forget these entries within ${formatDuration(Math.ceil((peerMaxAgeMs * 4) / 3))} (napshare nodes with --peer-max-age ${formatDuration(peerMaxAgeMs)}).`,
  ];
}

export function formatDownloaded(name: string, from: string, path: string, size: number): string[] {
  return [`Downloaded ${name} (${formatBytes(size)}) from ${from} to ${path}`];
}

export interface StatusReport {
  nodeId: string;
  dhtPort: number;
  filePort: number;
  routingTableSize: number;
  published: readonly string[];
  keys: number;
  waiting: boolean;
}

/** `status`: node id, routing-table size, published files. */
export function formatStatus(status: StatusReport): string[] {
  const lines = [
    `Node id ${status.nodeId}`,
    `DHT port ${status.dhtPort} (UDP), file server port ${status.filePort} (TCP)`,
    `Routing table: ${plural(status.routingTableSize, 'node')}`,
    `Published: ${plural(status.published.length, 'file')} under ${plural(status.keys, 'key')}${status.waiting ? ', waiting for a first DHT node' : ''}`,
  ];
  for (const name of status.published.slice(0, MAX_STATUS_NAMES)) lines.push(`  ${name}`);
  if (status.published.length > MAX_STATUS_NAMES)
    lines.push(`  ... and ${status.published.length - MAX_STATUS_NAMES} more`);
  return lines;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function compareAddress(a: Holder, b: Holder): number {
  const left = a.address.host.split('.').map(Number);
  const right = b.address.host.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return a.address.port - b.address.port;
}
