/**
 * Peer addresses as the index holds them (docs/protocol.md, "Addresses"): which announced IPv4
 * address and port a peer can be reached at, the IPv4 address a connection really comes from,
 * and `IP:port` strings from the network, parsed and formatted again (never echoed as they came).
 * Pure.
 */
import { formatAddress, type HostPort, isIPv4, isPort } from './address.ts';
import { NapError } from './errors.ts';

/** `IP:port` exactly as napshare formats it: dotted IPv4 without leading zeros, a port 1-65535. */
const PEER_ADDRESS = /^(\d{1,3}(?:\.\d{1,3}){3}):([1-9]\d{0,4})$/;
/** How Node shows an IPv4 peer on a dual-stack socket. */
const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * Why `ip:port` cannot be a peer's address (a place another peer can connect to), as a phrase
 * (`a multicast address`), or null when it can. Refused: 0.0.0.0/8 (unspecified, "this host"),
 * 224.0.0.0/4 (multicast), 240.0.0.0/4 (reserved, and 255.255.255.255, the broadcast address),
 * and port 0.
 */
export function peerAddressProblem(ip: string, port: number): string | null {
  const first = Number(ip.split('.')[0]);
  if (first === 0) return 'an unspecified address';
  if (ip === '255.255.255.255') return 'the broadcast address';
  if (first >= 224 && first <= 239) return 'a multicast address';
  if (first >= 240) return 'a reserved address';
  if (port === 0) return 'port 0';
  return null;
}

/**
 * The dotted IPv4 address of a connection's remote end: `a.b.c.d` as it is, or the IPv4 address
 * inside an IPv4-mapped IPv6 one (`::ffff:a.b.c.d`); undefined for anything else.
 */
export function remoteIPv4(remoteAddress: string | undefined): string | undefined {
  if (isIPv4(remoteAddress)) return remoteAddress;
  const mapped = IPV4_MAPPED.exec(remoteAddress ?? '')?.[1];
  return isIPv4(mapped) ? mapped : undefined;
}

/**
 * Throws ADDRESS_MISMATCH unless the announced `ip` is the one the connection comes from
 * (`remoteAddress` as Node gives it): the index lists only addresses it has reason to believe.
 */
export function assertAnnouncedIp(ip: string, remoteAddress: string | undefined): void {
  const remote = remoteIPv4(remoteAddress);
  if (remote === ip) return;
  throw new NapError(
    'ADDRESS_MISMATCH',
    remote === undefined
      ? `The announced IP ${ip} cannot be checked: this connection does not come from an IPv4 address.`
      : `The announced IP ${ip} is not the address this connection comes from; JOIN with IP ${remote}.`,
  );
}

/**
 * Parses an `IP:port` a server or a peer sent: a usable peer address (see peerAddressProblem) in
 * napshare's exact format, or undefined. Anything else (spaces, leading zeros, a host name, a
 * newline, an escape sequence) is not an address.
 */
export function parsePeerAddress(text: unknown): HostPort | undefined {
  if (typeof text !== 'string') return undefined;
  const match = PEER_ADDRESS.exec(text);
  const host = match?.[1];
  const port = Number(match?.[2]);
  if (!isIPv4(host) || !isPort(port) || peerAddressProblem(host, port) !== null) return undefined;
  return { host, port };
}

/** `text` formatted again from its parsed parts, or undefined when it is not a peer address. */
export function canonicalPeerAddress(text: unknown): string | undefined {
  const address = parsePeerAddress(text);
  return address === undefined ? undefined : formatAddress(address.host, address.port);
}
