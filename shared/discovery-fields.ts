/**
 * The fields seed 002 adds to the index protocol (docs/protocol.md, "Discovery"): aliases, chat
 * texts, the peer list's and QUERY's entries, departure reasons. Pure: validation and decoding,
 * throwing NapError (BAD_REQUEST, BAD_ARGUMENT) on bad input.
 */
import { NapError } from './errors.ts';
import { badField, type JsonObject, requireCount, requireString } from './json-line.ts';
import { canonicalPeerAddress } from './peer-address.ts';
import { quoteText, unsafeCharacter } from './terminal-text.ts';

/** Longest alias, in characters (code points): a nick, short enough for one chat line. */
export const MAX_ALIAS_CHARS = 32;
/** Longest chat text, in UTF-8 bytes: a typed line; bounds what one CHAT costs every member. */
export const MAX_CHAT_TEXT_BYTES = 4096;

// An alias is one word without ':' (`alias: text` is how chat lines print, seed 002); nothing in
// it may change a terminal (terminal-text.ts: controls, format characters, separators).
const SPACE_OR_COLON = /[\s:]/u;
// A chat text is one line: no control character, no line or paragraph separator, no unpaired
// surrogate (a newline would let one member print lines in another's name). Other format
// characters are allowed on the wire and shown escaped by every console.
const NOT_ONE_LINE = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]/u;

/** One online peer as LIST shows it (seed 002 `/showall`: alias -> address). */
export interface PeerSummary {
  address: string;
  /** Absent for a peer that joined without one (the course's JOIN). */
  alias?: string;
  fileCount: number;
}
/** A peer holding the file QUERY asked for (seed 002 `/query`). */
export interface FileHolder {
  address: string;
  alias?: string;
}
/** Why a peer left: LEAVE, its connection closed, or no heartbeat in time. */
export type LeaveReason = 'left' | 'closed' | 'timeout';
const LEAVE_REASONS: readonly string[] = ['left', 'closed', 'timeout'] satisfies LeaveReason[];

/** Why `alias` is not a valid alias, or null when it is. */
export function aliasProblem(alias: string): string | null {
  const chars = [...alias].length;
  if (chars === 0 || chars > MAX_ALIAS_CHARS || SPACE_OR_COLON.test(alias) || unsafeCharacter(alias) !== null)
    return `an alias is 1 to ${MAX_ALIAS_CHARS} characters without spaces, ":", control or invisible format characters`;
  return null;
}

/** Throws BAD_ARGUMENT (a person typed it) unless `alias` is valid. */
export function assertAlias(alias: string): string {
  const problem = aliasProblem(alias);
  if (problem !== null) throw new NapError('BAD_ARGUMENT', `Invalid alias ${quoteText(alias)}: ${problem}.`);
  return alias;
}

/**
 * What makes two aliases the same alias: NFKC, then case folding (upper- then lower-casing, so
 * "ß" matches "SS" and "ss", "ς" matches "Σ" and "σ"), then NFKC again. "Ana", "ANA" and "Ａｎａ"
 * (full-width) are one alias; aliases are unique under this key (ALIAS_TAKEN).
 */
export function aliasKey(alias: string): string {
  return alias.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

/** Why `text` cannot be sent as a chat message, or null when it can. */
export function chatTextProblem(text: string): string | null {
  if (text.length === 0) return 'a chat message is not empty';
  if (Buffer.byteLength(text, 'utf8') > MAX_CHAT_TEXT_BYTES)
    return `a chat message is at most ${MAX_CHAT_TEXT_BYTES} bytes`;
  if (NOT_ONE_LINE.test(text))
    return 'a chat message is one line of text without control characters or line separators';
  return null;
}

export function requireAlias(message: JsonObject, field: string): string {
  const alias = requireString(message, field);
  if (aliasProblem(alias) !== null)
    throw badField(message, field, `1 to ${MAX_ALIAS_CHARS} characters without spaces, ":" or controls`);
  return alias;
}

export function optionalAlias(message: JsonObject, field: string): string | undefined {
  return message[field] === undefined ? undefined : requireAlias(message, field);
}

export function requireChatText(message: JsonObject): string {
  const text = requireString(message, 'text');
  const problem = chatTextProblem(text);
  if (problem !== null) throw new NapError('BAD_REQUEST', `CHAT: ${problem}.`);
  return text;
}

/** A PEER_LEFT `reason`. */
export function requireLeaveReason(message: JsonObject): LeaveReason {
  const reason = requireString(message, 'reason');
  if (!LEAVE_REASONS.includes(reason)) throw badField(message, 'reason', '"left", "closed" or "timeout"');
  return reason as LeaveReason;
}

/** One entry of LIST_OK `peers`; `where` names it in errors (`LIST_OK peers: field ...`). */
export function decodeSummary(item: JsonObject, where = 'LIST_OK peers'): PeerSummary {
  const entry = { ...item, type: where };
  return withAlias(
    { address: requirePeerAddress(entry, 'address'), fileCount: requireCount(entry, 'fileCount') },
    optionalAlias(entry, 'alias'),
  );
}

/** One entry of QUERY_OK `peers`. */
export function decodeHolder(item: JsonObject, where = 'QUERY_OK peers'): FileHolder {
  const entry = { ...item, type: where };
  return withAlias({ address: requirePeerAddress(entry, 'address') }, optionalAlias(entry, 'alias'));
}

/** A peer's `IP:port` from the server: parsed and formatted again, never echoed as it came. */
export function requirePeerAddress(message: JsonObject, field: string): string {
  const address = canonicalPeerAddress(message[field]);
  if (address === undefined) throw badField(message, field, 'a peer address IP:port');
  return address;
}

/** `value` with `alias` set only when there is one (JSON then has no `alias` key at all). */
export function withAlias<T extends object>(value: T, alias: string | undefined): T & { alias?: string } {
  return alias === undefined ? value : { ...value, alias };
}

export function requireObjects(message: JsonObject, field: string): JsonObject[] {
  const value = message[field];
  if (
    !Array.isArray(value) ||
    !value.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item))
  )
    throw badField(message, field, 'an array of objects');
  return value as JsonObject[];
}
