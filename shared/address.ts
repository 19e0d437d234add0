/** Dotted IPv4 addresses and ports, as the index protocol carries them (no DNS, no IPv6). */
import { NapError } from './errors.ts';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(value: unknown): value is string {
  return typeof value === 'string' && IPV4.test(value);
}

/** A TCP/UDP port a peer can be reached at: an integer 1-65535. */
export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

export interface HostPort {
  host: string;
  port: number;
}

export function formatAddress(host: string, port: number): string {
  return `${host}:${port}`;
}

/**
 * Parses a port typed by a person. `allowZero` admits 0 ("any free port") for addresses we bind.
 */
export function parsePort(text: string, allowZero = false): number {
  const trimmed = text.trim();
  const port = /^\d{1,5}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (isPort(port) || (allowZero && port === 0)) return port;
  throw new NapError(
    'BAD_ARGUMENT',
    `Invalid port ${JSON.stringify(text)}: expected an integer from ${allowZero ? 0 : 1} to 65535.`,
  );
}

export function parseIPv4(text: string): string {
  const trimmed = text.trim();
  if (isIPv4(trimmed)) return trimmed;
  throw new NapError(
    'BAD_ARGUMENT',
    `Invalid IP address ${JSON.stringify(text)}: expected a dotted IPv4 address such as 127.0.0.1.`,
  );
}

/** Parses `host:port` (host a dotted IPv4 address, or `localhost`). */
export function parseHostPort(text: string, allowZero = false): HostPort {
  const at = text.lastIndexOf(':');
  if (at <= 0) {
    throw new NapError(
      'BAD_ARGUMENT',
      `Invalid address ${JSON.stringify(text)}: expected IP:PORT such as 127.0.0.1:1099.`,
    );
  }
  const hostText = text.slice(0, at);
  const host = hostText === 'localhost' ? '127.0.0.1' : parseIPv4(hostText);
  return { host, port: parsePort(text.slice(at + 1), allowZero) };
}

/** `--server A,B`: the server to use first and the ones to fail over to. */
export function serverOptions(text: string): { server: HostPort; fallbacks: HostPort[] } {
  const [server, ...fallbacks] = parseHostPortList(text);
  return { server, fallbacks };
}

/** Index servers a peer may use, `IP:PORT[,IP:PORT...]`: the first, then the others in turn. */
export function parseHostPortList(text: string): [HostPort, ...HostPort[]] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.some((part) => part === ''))
    throw new NapError(
      'BAD_ARGUMENT',
      `Invalid server list ${JSON.stringify(text)}: expected IP:PORT[,IP:PORT...].`,
    );
  return parts.map((part) => parseHostPort(part)) as [HostPort, ...HostPort[]];
}
