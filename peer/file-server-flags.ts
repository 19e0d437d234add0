/**
 * The file server's limits as command-line flags, the same in every mode that serves files
 * (course peer, chat, LAN, DHT): each main spreads FILE_SERVER_FLAGS into its parseArgs options,
 * shows FILE_SERVER_FLAGS_USAGE, and passes fileServerFlags(values) to its file server.
 */
import { describeTimeout, parseCountFlag, parseTimeoutFlag } from '../shared/limit-flags.ts';
import {
  DEFAULT_MAX_UPLOADS,
  FILE_SERVER_MAX_CONNECTIONS,
  FILE_SERVER_MAX_CONNECTIONS_PER_IP,
  type FileServerLimits,
  REQUEST_TIMEOUT_MS,
  STALL_TIMEOUT_MS,
} from './file-server.ts';

export const FILE_SERVER_FLAGS = {
  'max-uploads': { type: 'string' },
  'max-uploads-per-ip': { type: 'string' },
  'max-connections': { type: 'string' },
  'max-connections-per-ip': { type: 'string' },
  'request-timeout': { type: 'string' },
  'stall-timeout': { type: 'string' },
} as const;

export const FILE_SERVER_FLAGS_USAGE = `File server limits (docs/reference.md, "Limits"):
  --max-uploads N             uploads served at once, more get BUSY (default ${DEFAULT_MAX_UPLOADS})
  --max-uploads-per-ip N      uploads to one IP address at once (default: half of --max-uploads)
  --max-connections N         connections at once, more get BUSY (default ${FILE_SERVER_MAX_CONNECTIONS})
  --max-connections-per-ip N  connections from one IP address (default ${FILE_SERVER_MAX_CONNECTIONS_PER_IP})
  --request-timeout T         time to send the request (and a password proof) (default ${describeTimeout(REQUEST_TIMEOUT_MS)})
  --stall-timeout T           a downloader that takes no data this long loses its upload (default ${describeTimeout(STALL_TIMEOUT_MS)})
  (T: seconds, or 500ms, 10m)`;

type FlagValues = { [flag in keyof typeof FILE_SERVER_FLAGS]?: string | boolean | undefined };

export interface FileServerFlags {
  maxUploads?: number;
  limits: Partial<FileServerLimits>;
}

/** The values given; a flag not given keeps the file server's default. */
export function fileServerFlags(values: FlagValues): FileServerFlags {
  const text = (flag: keyof typeof FILE_SERVER_FLAGS) => {
    const value = values[flag];
    return typeof value === 'string' ? value : undefined;
  };
  const count = (flag: keyof typeof FILE_SERVER_FLAGS) => {
    const value = text(flag);
    return value === undefined ? undefined : parseCountFlag(value, `--${flag}`);
  };
  const timeout = (flag: keyof typeof FILE_SERVER_FLAGS) => {
    const value = text(flag);
    if (value === undefined) return undefined;
    const ms = parseTimeoutFlag(value, `--${flag}`);
    return ms === 0 ? 2 ** 31 - 1 : ms;
  };
  const limits: Partial<FileServerLimits> = {};
  const set = <K extends keyof FileServerLimits>(key: K, value: FileServerLimits[K] | undefined) => {
    if (value !== undefined) limits[key] = value;
  };
  set('maxUploadsPerIp', count('max-uploads-per-ip'));
  set('maxConnections', count('max-connections'));
  set('maxConnectionsPerIp', count('max-connections-per-ip'));
  set('requestTimeoutMs', timeout('request-timeout'));
  set('stallTimeoutMs', timeout('stall-timeout'));
  const maxUploads = count('max-uploads');
  return maxUploads === undefined ? { limits } : { maxUploads, limits };
}
