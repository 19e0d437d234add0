/** `--store redis://HOST:PORT[/DB]`: where the index's state lives. Pure. */
import { NapError } from '../../shared/errors.ts';

export interface RedisLocation {
  host: string;
  port: number;
  /** Redis's logical database, 0 unless the URL names one. */
  db: number;
}

/** Redis's default port, when the URL names none. */
export const REDIS_DEFAULT_PORT = 6379;
/** Logical databases a stock Redis has (`databases 16`). */
const MAX_DB = 15;

/** Parses `redis://HOST[:PORT][/DB]`; anything else (a password, a query, another scheme) is refused. */
export function parseStoreUrl(text: string): RedisLocation {
  const refuse = (why: string) =>
    new NapError(
      'BAD_ARGUMENT',
      `--store needs redis://HOST:PORT[/DB] (${why}), not ${JSON.stringify(text)}.`,
    );
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse('not a URL');
  }
  if (url.protocol !== 'redis:') throw refuse('the scheme must be redis');
  if (url.username || url.password || url.search || url.hash)
    throw refuse('no user, password, query or fragment');
  if (url.hostname === '') throw refuse('a host is needed');
  const port = url.port === '' ? REDIS_DEFAULT_PORT : Number(url.port);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,2}$/.test(path)) throw refuse('DB is a number');
  const db = path === '' ? 0 : Number(path);
  if (db > MAX_DB) throw refuse(`DB is 0 to ${MAX_DB}`);
  // URL keeps IPv6 hosts in brackets; the client wants them bare.
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, db };
}

export function formatStoreUrl(location: RedisLocation): string {
  const host = location.host.includes(':') ? `[${location.host}]` : location.host;
  return `redis://${host}:${location.port}/${location.db}`;
}
