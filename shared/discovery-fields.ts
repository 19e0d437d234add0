/**
 * The fields seed 002 adds to the index protocol (docs/protocol.md, "Discovery"): aliases, chat
 * texts, the peer list's and QUERY's entries, departure reasons. Pure: validation and decoding,
 * throwing NapError (BAD_REQUEST, BAD_ARGUMENT) on bad input.
 */
import { NapError } from './errors.ts';
import { badField, type JsonObject, requireCount, requireString } from './json-line.ts';

/** Longest alias, in characters (code points): a nick, short enough for one chat line. */
export const MAX_ALIAS_CHARS = 32;
/** Longest chat text, in UTF-8 bytes: a typed line; bounds what one CHAT costs every member. */
export const MAX_CHAT_TEXT_BYTES = 4096;

// An alias is one word without ':' (`alias: text` is how chat lines print, seed 002) and without
// control characters (they would break terminals and transcripts).
const ALIAS = new RegExp(`^[^\\s:\\p{Cc}\\p{Cf}]{1,${MAX_ALIAS_CHARS}}$`, 'u');
const CONTROL = /[\p{Cc}]/u;

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
  return ALIAS.test(alias)
    ? null
    : `an alias is 1 to ${MAX_ALIAS_CHARS} characters without spaces, ":" or control characters`;
}

/** Throws BAD_ARGUMENT (a person typed it) unless `alias` is valid. */
export function assertAlias(alias: string): string {
  const problem = aliasProblem(alias);
  if (problem !== null)
    throw new NapError('BAD_ARGUMENT', `Invalid alias ${JSON.stringify(alias)}: ${problem}.`);
  return alias;
}

/** Why `text` cannot be sent as a chat message, or null when it can. */
export function chatTextProblem(text: string): string | null {
  if (text.length === 0) return 'a chat message is not empty';
  if (Buffer.byteLength(text, 'utf8') > MAX_CHAT_TEXT_BYTES)
    return `a chat message is at most ${MAX_CHAT_TEXT_BYTES} bytes`;
  // A newline would let one member print lines in another's name.
  if (CONTROL.test(text)) return 'a chat message has no control characters';
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

export function decodeSummary(item: JsonObject): PeerSummary {
  return withAlias(
    { address: requireString(item, 'address'), fileCount: requireCount(item, 'fileCount') },
    optionalAlias(item, 'alias'),
  );
}

export function decodeHolder(item: JsonObject): FileHolder {
  return withAlias({ address: requireString(item, 'address') }, optionalAlias(item, 'alias'));
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
