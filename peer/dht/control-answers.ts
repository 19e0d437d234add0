/**
 * The text of the daemon's answers (seed 000, 16-19: gprint). Pure: data in, lines out. Every
 * answer is one or more non-empty lines; the control server ends each with an empty line.
 */
import { formatAddress } from '../../shared/address.ts';
import { formatBytes } from '../../shared/units.ts';
import { formatDuration } from './durations.ts';
import type { GuardStats } from './guarded-socket.ts';
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

/** When keys no node took are tried again: in `retryInMs`, then at least every `retryMaxMs`. */
export interface RetrySchedule {
  retryInMs: number | undefined;
  retryMaxMs: number;
}

/** `publish` (seed 000, 19: how many files were published), and what is still to announce. */
export function formatPublish(outcome: PublishOutcome, dir: string, retry: RetrySchedule): string[] {
  const files = plural(outcome.files, 'file');
  let lines: string[];
  if (outcome.files === 0) lines = [`Published 0 files: ${dir} has no regular file to share.`];
  else if (outcome.waiting)
    lines = [`Published ${files} from ${dir}; no DHT node known yet, announced as soon as one is.`];
  else lines = [`Published ${files} from ${dir}.`];
  if (outcome.pending > 0 && !outcome.waiting) {
    const next = retry.retryInMs === undefined ? 'again soon' : `again in ${formatDuration(retry.retryInMs)}`;
    lines.push(
      `${plural(outcome.pending, 'key')} not announced yet (no node took them); tried ${next}, then at least every ${formatDuration(retry.retryMaxMs)} until they are.`,
    );
  }
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
  datagrams: GuardStats;
  published: readonly string[];
  keys: number;
  /** Keys no node took yet. */
  pending: number;
  /** No DHT node known: pending keys wait for the first one. */
  waiting: boolean;
  /** When pending keys are tried again (undefined: being announced now, or none pending). */
  retryInMs: number | undefined;
}

/** `status`: node id, routing table, datagrams dropped, published files and keys still to announce. */
export function formatStatus(status: StatusReport): string[] {
  const { received, malformed, failed } = status.datagrams;
  let pending = `Not announced yet: ${plural(status.pending, 'key')}`;
  if (status.pending > 0 && status.waiting) pending += ' (waiting for a first DHT node)';
  else if (status.pending > 0 && status.retryInMs !== undefined)
    pending += ` (next try in ${formatDuration(status.retryInMs)})`;
  else if (status.pending > 0) pending += ' (being announced)';
  const lines = [
    `Node id ${status.nodeId}`,
    `DHT port ${status.dhtPort} (UDP), file server port ${status.filePort} (TCP)`,
    `Routing table: ${plural(status.routingTableSize, 'node')}`,
    `Datagrams: ${received} received, ${malformed} malformed dropped, ${failed} the DHT library failed on`,
    `Published: ${plural(status.published.length, 'file')} under ${plural(status.keys, 'key')}`,
    pending,
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
