/**
 * Every limit's default, as the code uses it, is the one the "Limits" table of docs/reference.md
 * documents, and the timeouts the hardening asked for hold their values: a constant changed without the table
 * (or the other way round) fails here.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTROL_LIMITS, MAX_UNREAD_ANSWER_BYTES } from '../../peer/dht/control-server.ts';
import {
  DEFAULT_MAX_UPLOADS,
  defaultUploadsPerIp,
  FILE_SERVER_MAX_CONNECTIONS,
  FILE_SERVER_MAX_CONNECTIONS_PER_IP,
  REQUEST_TIMEOUT_MS,
  STALL_TIMEOUT_MS,
} from '../../peer/file-server.ts';
import {
  CHAT_IDLE_TIMEOUT_MS,
  CHAT_LINE_TIMEOUT_MS,
  DEFAULT_CHAT_LINES_PER_SECOND,
  DEFAULT_MAX_CHAT_CLIENTS,
  DEFAULT_MAX_CHAT_CLIENTS_PER_IP,
  MAX_UNREAD_BYTES,
} from '../../server/chat-server.ts';
import { DEFAULT_CHAT_RATE_PER_SECOND, DEFAULT_INDEX_LIMITS } from '../../server/index-server.ts';
import { describeTimeout } from '../../shared/limit-flags.ts';
import { CHAT_BURST_SECONDS } from '../../shared/token-bucket.ts';
import { ROOT } from '../helpers/cli.ts';

const KIB = 1024;
const MIB = 1024 * 1024;

/** server and flag -> the default the code uses, written as the table writes it. */
const EXPECTED: Record<string, string> = {
  'index --max-connections': String(DEFAULT_INDEX_LIMITS.maxConnections),
  'index --max-connections-per-ip': String(DEFAULT_INDEX_LIMITS.maxConnectionsPerIp),
  'index --idle-timeout': describeTimeout(DEFAULT_INDEX_LIMITS.idleTimeoutMs),
  'index --line-timeout': describeTimeout(DEFAULT_INDEX_LIMITS.lineTimeoutMs),
  'index --max-unread': `${DEFAULT_INDEX_LIMITS.maxUnreadBytes / KIB} KiB`,
  'index --max-pending-input': `${DEFAULT_INDEX_LIMITS.maxPendingInputBytes / MIB} MiB`,
  'index --chat-rate': String(DEFAULT_CHAT_RATE_PER_SECOND),
  'chat --max-clients': String(DEFAULT_MAX_CHAT_CLIENTS),
  'chat --max-clients-per-ip': String(DEFAULT_MAX_CHAT_CLIENTS_PER_IP),
  'chat --idle-timeout': describeTimeout(CHAT_IDLE_TIMEOUT_MS),
  'chat --line-timeout': describeTimeout(CHAT_LINE_TIMEOUT_MS),
  'chat --max-unread': `${MAX_UNREAD_BYTES / MIB} MiB`,
  'chat --chat-rate': String(DEFAULT_CHAT_LINES_PER_SECOND),
  'file --max-uploads': String(DEFAULT_MAX_UPLOADS),
  'file --max-uploads-per-ip': `half of \`--max-uploads\` (${defaultUploadsPerIp(DEFAULT_MAX_UPLOADS)})`,
  'file --max-connections': String(FILE_SERVER_MAX_CONNECTIONS),
  'file --max-connections-per-ip': String(FILE_SERVER_MAX_CONNECTIONS_PER_IP),
  'file --request-timeout': describeTimeout(REQUEST_TIMEOUT_MS),
  'file --stall-timeout': describeTimeout(STALL_TIMEOUT_MS),
  'control --control-max-clients': String(DEFAULT_CONTROL_LIMITS.maxClients),
  'control --control-max-clients-per-ip': String(DEFAULT_CONTROL_LIMITS.maxClientsPerIp),
  'control --control-idle-timeout': describeTimeout(DEFAULT_CONTROL_LIMITS.idleTimeoutMs),
  'control --control-line-timeout': describeTimeout(DEFAULT_CONTROL_LIMITS.lineTimeoutMs),
};

async function documentedDefaults(): Promise<Record<string, string>> {
  const reference = await readFile(path.join(ROOT, 'docs/reference.md'), 'utf8');
  const section = reference.slice(reference.indexOf('## Limits'));
  const rows: Record<string, string> = {};
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    // | server | limit | flag | default | over it | why |
    const flag = /^`(--[a-z-]+)/.exec(cells[3] ?? '')?.[1];
    if (flag) rows[`${cells[1]} ${flag}`] = cells[4] as string;
  }
  return rows;
}

describe('limits', () => {
  it("docs/reference.md's table documents every limit with the default the code uses", async () => {
    expect(await documentedDefaults()).toEqual(EXPECTED);
  });

  it('keeps the timeouts and bounds the servers are meant to have', () => {
    // An index connection that has not JOINed, or leaves a line unfinished, has 30 s.
    expect(DEFAULT_INDEX_LIMITS.idleTimeoutMs).toBe(30_000);
    expect(DEFAULT_INDEX_LIMITS.lineTimeoutMs).toBe(30_000);
    // OpenNap's per-connection output bound.
    expect(DEFAULT_INDEX_LIMITS.maxUnreadBytes).toBe(100 * 1024);
    // 10,000 peers at once, each from its own address, fit the defaults.
    expect(DEFAULT_INDEX_LIMITS.maxConnections).toBeGreaterThanOrEqual(10_000);
    // The file server: 10 s to send a request, 30 s of no progress frees an upload slot.
    expect(REQUEST_TIMEOUT_MS).toBe(10_000);
    expect(STALL_TIMEOUT_MS).toBe(30_000);
    expect(MAX_UNREAD_ANSWER_BYTES).toBe(MIB);
    expect(CHAT_BURST_SECONDS).toBe(4);
  });
});
