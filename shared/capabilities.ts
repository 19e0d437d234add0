/**
 * Capabilities a peer announces at JOIN (docs/protocol.md, "Capabilities"): short tokens saying
 * which optional requests its file server answers. The index keeps them and tells downloaders,
 * in SEARCH_OK and QUERY_OK, which holders announced what. A downloader must verify a holder
 * that announced INFO: nothing that holder says later can turn verification off.
 * Pure: decoders throw BAD_REQUEST (a malformed field) like the rest of the index codec.
 */
import { badField, type JsonObject } from './json-line.ts';

/** The file server answers INFO (size, SHA-256, piece hashes): its files can be verified. */
export const CAP_INFO = 'INFO';
/** Tokens napshare knows; others are dropped on decoding (room for later ones, never stored). */
export const KNOWN_CAPS: readonly string[] = [CAP_INFO];
/** What napshare's own peers announce at JOIN. */
export const NAPSHARE_CAPS: readonly string[] = [CAP_INFO];
/**
 * Tokens one peer may list: a handful of features, not a place to store data; a longer list is
 * refused so that no peer makes the index (or a downloader) hold more than a few bytes for it.
 */
export const MAX_CAPS = 16;
/** A token: an upper-case word of at most 16 characters (ASCII letters, digits, `_`). */
const TOKEN = /^[A-Z][A-Z0-9_]{0,15}$/;

/** Holder address (`IP:port`, as listed in `peers`) -> the known tokens it announced. */
export type HolderCaps = Record<string, string[]>;

/** The known tokens of a valid token list, each once, in order. Throws BAD_REQUEST otherwise. */
function knownTokens(message: JsonObject, field: string, value: unknown): string[] {
  if (
    !Array.isArray(value) ||
    value.length > MAX_CAPS ||
    !value.every((token) => typeof token === 'string' && TOKEN.test(token))
  ) {
    throw badField(message, field, `an array of at most ${MAX_CAPS} capability tokens (A-Z, 0-9, _)`);
  }
  return [...new Set(value as string[])].filter((token) => KNOWN_CAPS.includes(token));
}

/** JOIN's optional `caps`: the known tokens announced (possibly none), undefined when absent. */
export function decodeJoinCaps(message: JsonObject): string[] | undefined {
  return message.caps === undefined ? undefined : knownTokens(message, 'caps', message.caps);
}

/**
 * SEARCH_OK's and QUERY_OK's optional `caps`: an object whose keys are addresses listed in
 * `peers` (nothing else: a holder the reply does not list cannot be vouched for), each mapped to
 * a token list. Holders with no known token are left out, as are holders absent from the object:
 * they announced nothing. Undefined when the field is absent.
 */
export function decodeHolderCaps(message: JsonObject, peers: readonly string[]): HolderCaps | undefined {
  const value = message.caps;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badField(message, 'caps', 'an object mapping listed addresses to capability tokens');
  const listed = new Set(peers);
  const entries = Object.entries(value);
  // Bounded by `peers` (each key must be one of them), so the object is no bigger than the list.
  if (entries.length > listed.size || entries.some(([address]) => !listed.has(address)))
    throw badField(message, 'caps', 'keyed only by addresses listed in "peers"');
  // fromEntries defines own properties: a key such as "__proto__" cannot reach the prototype.
  return Object.fromEntries(
    entries
      .map(([address, tokens]) => [address, knownTokens(message, 'caps', tokens)] as const)
      .filter(([, known]) => known.length > 0),
  );
}

/** Whether `address` announced `token`, according to `caps` (an absent map: nobody did). */
export function hasCap(caps: HolderCaps | undefined, address: string, token: string): boolean {
  return caps !== undefined && Object.hasOwn(caps, address) && (caps[address] as string[]).includes(token);
}
