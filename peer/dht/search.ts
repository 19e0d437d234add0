/**
 * `search` (seed 000, 13-17, the DHT's get): looks up the holders of SHA-1(KEYWORD), then asks
 * each one over the transfer protocol (LIST, docs/protocol.md) which of its names match. Holders
 * that answer with names are confirmed; the others (another BitTorrent client, a peer gone or one
 * that cleaned) stay unconfirmed: the DHT only says that someone announced the key.
 */
import type net from 'node:net';
import { connectTcp } from '../../io/connect.ts';
import { SocketLines } from '../../io/socket-lines.ts';
import { formatAddress, type HostPort } from '../../shared/address.ts';
import { describeError } from '../../shared/errors.ts';
import { isSafeFileName } from '../../shared/file-names.ts';
import { encodeLine } from '../../shared/json-line.ts';
import { nameMatches } from '../../shared/keywords.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import { decodeTransferReply, MAX_TRANSFER_REPLY_BYTES } from '../../shared/transfer-protocol.ts';
import type { DhtNode } from './dht-node.ts';
import { dhtKey, searchedTexts } from './keys.ts';
import { mapWithLimit } from './pool.ts';

/**
 * How long a holder has to connect and answer LIST. napshare peers answer in milliseconds; a
 * BitTorrent client waits for a handshake that never comes, so this bounds every search.
 */
export const DEFAULT_CONFIRM_TIMEOUT_MS = 3000;
/** LIST requests in flight at once. */
const CONFIRM_CONCURRENCY = 16;
/** Names kept per holder: a search answer is read by a person at a terminal. */
export const MAX_NAMES_PER_HOLDER = 1000;

export interface Holder {
  address: HostPort;
  /** Matching names the holder confirmed serving, or null when it did not confirm any. */
  names: string[] | null;
}

export interface SearchOptions {
  confirmTimeoutMs?: number;
  lookupTimeoutMs?: number;
  log?: Log;
}

/** Holders of `keyword` (a file name or a word of one), each asked which names it serves. */
export async function searchHolders(
  node: DhtNode,
  keyword: string,
  options: SearchOptions = {},
): Promise<Holder[]> {
  const found = new Map<string, HostPort>();
  const lookups = searchedTexts(keyword).map((text) => node.lookup(dhtKey(text), options.lookupTimeoutMs));
  // Every lookup ends before the search answers, even when one was refused (BUSY): none is left
  // running behind an answer.
  for (const outcome of await Promise.allSettled(lookups)) {
    if (outcome.status === 'rejected') throw outcome.reason;
    for (const peer of outcome.value) found.set(formatAddress(peer.host, peer.port), peer);
  }
  const timeoutMs = options.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS;
  return mapWithLimit([...found.values()], CONFIRM_CONCURRENCY, async (address) => ({
    address,
    names: await askNames(address, keyword, timeoutMs, options.log ?? silentLog),
  }));
}

/**
 * Sends `{"type":"LIST","keyword":KEYWORD}` to a holder's file server. Returns the safe names it
 * lists that really match the keyword (a peer is not trusted), or null when it lists none, answers
 * something else, or does not answer in time.
 */
export async function askNames(
  address: HostPort,
  keyword: string,
  timeoutMs: number,
  log: Log = silentLog,
): Promise<string[] | null> {
  const where = formatAddress(address.host, address.port);
  const deadline = Date.now() + timeoutMs;
  let socket: net.Socket | undefined;
  try {
    socket = await connectTcp(address.host, address.port, 'the holder', timeoutMs);
    socket.on('error', () => {});
    socket.write(encodeLine({ type: 'LIST', keyword }));
    const lines = new SocketLines(socket, MAX_TRANSFER_REPLY_BYTES, `holder ${where}`);
    const reply = decodeTransferReply(await lines.nextLine(Math.max(1, deadline - Date.now())));
    if (reply.type !== 'LIST_OK') return null;
    const names = [...new Set(reply.files)]
      .filter((name) => isSafeFileName(name) && nameMatches(name, keyword))
      .sort()
      .slice(0, MAX_NAMES_PER_HOLDER);
    return names.length > 0 ? names : null;
  } catch (error) {
    log(`search: ${where} did not confirm: ${describeError(error)}`);
    return null;
  } finally {
    socket?.destroy();
  }
}
