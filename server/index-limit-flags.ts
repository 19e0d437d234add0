/**
 * The index server's connection limits as command-line flags: server/main.ts spreads
 * INDEX_LIMIT_FLAGS into its parseArgs options, shows INDEX_LIMIT_FLAGS_USAGE, and passes
 * indexLimitFlags(values) to IndexServer.start. docs/reference.md, "Limits", lists them with their reasons.
 */
import type { GuardLimits } from '../io/connection-guard.ts';
import { describeTimeout, parseCountFlag, parseSizeFlag, parseTimeoutFlag } from '../shared/limit-flags.ts';
import { DEFAULT_CHAT_RATE_PER_SECOND, DEFAULT_INDEX_LIMITS } from './index-server.ts';

export const INDEX_LIMIT_FLAGS = {
  'max-connections': { type: 'string' },
  'max-connections-per-ip': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'line-timeout': { type: 'string' },
  'max-unread': { type: 'string' },
  'max-pending-input': { type: 'string' },
  'chat-rate': { type: 'string' },
} as const;

const KIB = 1024;
const MIB = 1024 * 1024;

export const INDEX_LIMIT_FLAGS_USAGE = `Connection limits (docs/reference.md, "Limits"):
  --max-connections N         connections at once; the next gets SERVER_BUSY (default ${DEFAULT_INDEX_LIMITS.maxConnections})
  --max-connections-per-ip N  connections from one IP address; then TOO_MANY_CONNECTIONS (default ${DEFAULT_INDEX_LIMITS.maxConnectionsPerIp})
  --idle-timeout T            a connection that has not JOINed and sends no request this long is closed (default ${describeTimeout(DEFAULT_INDEX_LIMITS.idleTimeoutMs)})
  --line-timeout T            a line left unfinished this long closes its connection (default ${describeTimeout(DEFAULT_INDEX_LIMITS.lineTimeoutMs)})
  --max-unread SIZE           output a client may leave unread before it is cut off (default ${DEFAULT_INDEX_LIMITS.maxUnreadBytes / KIB}KiB)
  --max-pending-input SIZE    unfinished lines of all connections together (default ${DEFAULT_INDEX_LIMITS.maxPendingInputBytes / MIB}MiB)
  --chat-rate N               CHAT messages a second per member; more get RATE_LIMITED (default ${DEFAULT_CHAT_RATE_PER_SECOND})
  (T: seconds, or 500ms, 10m; 0 never. SIZE: 100KiB, 64MiB, a number of bytes)`;

type FlagValues = { [flag in keyof typeof INDEX_LIMIT_FLAGS]?: string | boolean | undefined };

/** The values given; a flag not given keeps the server's default. */
export function indexLimitFlags(values: FlagValues): {
  limits: Partial<GuardLimits>;
  chatRatePerSecond?: number;
} {
  const text = (flag: keyof typeof INDEX_LIMIT_FLAGS) => {
    const value = values[flag];
    return typeof value === 'string' ? value : undefined;
  };
  const limits: Partial<GuardLimits> = {};
  const parse = <K extends keyof GuardLimits>(
    key: K,
    flag: keyof typeof INDEX_LIMIT_FLAGS,
    parser: (text: string, flag: string) => number,
  ) => {
    const value = text(flag);
    if (value !== undefined) limits[key] = parser(value, `--${flag}`);
  };
  parse('maxConnections', 'max-connections', parseCountFlag);
  parse('maxConnectionsPerIp', 'max-connections-per-ip', parseCountFlag);
  parse('idleTimeoutMs', 'idle-timeout', parseTimeoutFlag);
  parse('lineTimeoutMs', 'line-timeout', parseTimeoutFlag);
  parse('maxUnreadBytes', 'max-unread', parseSizeFlag);
  parse('maxPendingInputBytes', 'max-pending-input', parseSizeFlag);
  const rate = text('chat-rate');
  return rate === undefined ? { limits } : { limits, chatRatePerSecond: parseCountFlag(rate, '--chat-rate') };
}
