/**
 * The limits a connection guard applies (connection-guard.ts) and why it refuses or dismisses a
 * client: the causes, and one sentence for each that servers put in their refusal line.
 */
import type net from 'node:net';

/** Why a client is refused or dismissed; each server says it in its own protocol. */
export type DismissCause =
  /** The server already holds its maximum of connections. */
  | 'SERVER_BUSY'
  /** The client's IP address already holds its maximum of connections. */
  | 'TOO_MANY_CONNECTIONS'
  /** No complete request for the idle timeout, while the server expected one. */
  | 'IDLE_TIMEOUT'
  /** A line started and not finished for the line timeout (slowloris). */
  | 'LINE_TIMEOUT'
  /** Unfinished lines of all clients together filled the server's budget; this one was the oldest. */
  | 'INPUT_BUDGET';

export interface GuardLimits {
  /** Connections served at once; past it a newcomer is refused (SERVER_BUSY). */
  maxConnections: number;
  /** Connections from one IP address at once; past it a newcomer is refused (TOO_MANY_CONNECTIONS). */
  maxConnectionsPerIp: number;
  /** Silence before a client the server waits on is dismissed (IDLE_TIMEOUT); 0: never. */
  idleTimeoutMs?: number;
  /** Life of an unfinished line before its client is dismissed (LINE_TIMEOUT); 0: never. */
  lineTimeoutMs?: number;
  /** Bytes received and not handled yet, all clients together (INPUT_BUDGET past it); 0: no bound. */
  maxPendingInputBytes?: number;
  /** Output a client may leave unread in our process before it is cut off; 0: no bound. */
  maxUnreadBytes?: number;
}

/** The line (newline included) that tells a client why it is refused or dismissed. */
export type RefusalFormat = (cause: DismissCause, message: string) => string | Uint8Array;

/** `::ffff:127.0.0.1` (an IPv4 client of a dual-stack socket) and `127.0.0.1` are one address. */
export function clientIp(socket: net.Socket): string {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** One sentence per cause, for servers whose refusal line carries a message. */
export function refusalMessage(cause: DismissCause, limits: GuardLimits, ip: string): string {
  switch (cause) {
    case 'SERVER_BUSY':
      return `The server already serves its maximum of ${limits.maxConnections} connections; try again later.`;
    case 'TOO_MANY_CONNECTIONS':
      return `Your address ${ip} already has ${limits.maxConnectionsPerIp} connections open here; close one and try again.`;
    case 'IDLE_TIMEOUT':
      return `No request for ${seconds(limits.idleTimeoutMs)}; the connection is closed.`;
    case 'LINE_TIMEOUT':
      return `A line was left unfinished for ${seconds(limits.lineTimeoutMs)}; the connection is closed.`;
    case 'INPUT_BUDGET':
      return 'The server is short of room for unfinished lines and yours was the oldest; the connection is closed, try again.';
  }
}

function seconds(ms = 0): string {
  return `${ms / 1000} s`;
}
