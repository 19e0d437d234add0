/**
 * `--bootstrap`: whom a new node asks first to join the DHT. bittorrent-dht contacts the public
 * Mainline routers when given no bootstrap at all, so napshare always passes one explicitly and
 * reaches the public routers only for `--bootstrap public`.
 */
import { formatAddress, type HostPort, parseHostPort } from '../../shared/address.ts';
import { NapError } from '../../shared/errors.ts';

export type Bootstrap =
  /** The first node of a private network: contacts nobody, waits to be contacted. */
  | { kind: 'none' }
  /** The public Mainline DHT routers (router.bittorrent.com and others, bittorrent-dht's list). */
  | { kind: 'public' }
  /** Known nodes of an existing network. */
  | { kind: 'nodes'; nodes: HostPort[] };

/** A bootstrap list is typed by a person: a few entries; more is a mistake, not a network. */
const MAX_BOOTSTRAP_NODES = 64;

/** Parses `none`, `public` or `host:port,host:port,...`. */
export function parseBootstrap(text: string): Bootstrap {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'none') return { kind: 'none' };
  if (trimmed.toLowerCase() === 'public') return { kind: 'public' };
  const parts = trimmed.split(',').map((part) => part.trim());
  if (parts.length > MAX_BOOTSTRAP_NODES) {
    throw new NapError('BAD_ARGUMENT', `--bootstrap takes at most ${MAX_BOOTSTRAP_NODES} addresses.`);
  }
  if (parts.some((part) => part.length === 0)) {
    throw new NapError(
      'BAD_ARGUMENT',
      `Invalid --bootstrap ${JSON.stringify(text)}: expected none, public or IP:PORT,IP:PORT,...`,
    );
  }
  return { kind: 'nodes', nodes: parts.map((part) => parseHostPort(part)) };
}

/** The value of bittorrent-dht's `bootstrap` option for a setting (never left undefined). */
export function libraryBootstrap(bootstrap: Bootstrap): boolean | string[] {
  switch (bootstrap.kind) {
    case 'none':
      return false;
    case 'public':
      return true;
    case 'nodes':
      return bootstrap.nodes.map((node) => formatAddress(node.host, node.port));
  }
}

export function describeBootstrap(bootstrap: Bootstrap): string {
  switch (bootstrap.kind) {
    case 'none':
      return 'none (first node of a network)';
    case 'public':
      return 'the public Mainline DHT routers';
    case 'nodes':
      return bootstrap.nodes.map((node) => formatAddress(node.host, node.port)).join(', ');
  }
}

/**
 * Refuses a bootstrap the node cannot reach from where it binds: a socket bound to 127.0.0.0/8
 * cannot send to another machine, so joining nodes elsewhere (or the public DHT) needs --host.
 */
export function assertReachable(bootstrap: Bootstrap, host: string): void {
  if (!isLoopback(host)) return;
  const far =
    bootstrap.kind === 'public'
      ? 'public'
      : bootstrap.kind === 'nodes'
        ? bootstrap.nodes.find((node) => !isLoopback(node.host))
        : undefined;
  if (far === undefined) return;
  const what = far === 'public' ? 'public (the public DHT routers)' : formatAddress(far.host, far.port);
  throw new NapError(
    'BAD_ARGUMENT',
    `--bootstrap ${what} is not on this machine, but the DHT node binds ${host}: give --host 0.0.0.0 (or this machine's address on that network) to join it.`,
  );
}

function isLoopback(host: string): boolean {
  return host.startsWith('127.');
}
