/**
 * Which addresses are ours, so we never list ourselves as a peer (issue 7). The protocol never
 * tells a node its own address: a peer knows us by the source address of our datagrams (seed
 * 004, 2: the seed's program sends from the socket it binds). So an address is ours when its port
 * is the port we bound and its IP is one this socket receives on: the bound IP itself, or, bound
 * to 0.0.0.0, any address of this machine's interfaces and all of 127.0.0.0/8.
 */
import os from 'node:os';

export type SelfTest = (host: string, port: number) => boolean;

export function selfAddressTest(
  boundHost: string,
  boundPort: number,
  interfaces: ReturnType<typeof os.networkInterfaces> = os.networkInterfaces(),
): SelfTest {
  if (boundHost !== '0.0.0.0') return (host, port) => port === boundPort && host === boundHost;
  const local = new Set<string>(['0.0.0.0']);
  for (const list of Object.values(interfaces)) {
    for (const item of list ?? []) if (item.family === 'IPv4') local.add(item.address);
  }
  return (host, port) => port === boundPort && (local.has(host) || host.startsWith('127.'));
}
