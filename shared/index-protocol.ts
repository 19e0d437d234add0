/**
 * Index protocol codec (docs/protocol.md, "Index protocol" and "Discovery"): what peers and the
 * index server say to each other. The course's JOIN / SEARCH / UPDATE (seed 003) plus the
 * discovery-server requests of seed 002 (alias, peer list, query, shared-file replacement, chat,
 * leave, heartbeat) and the two messages the server pushes unasked (CHAT, PEER_LEFT).
 * Pure: decode functions throw NapError (BAD_REQUEST, UNSAFE_NAME, PROTOCOL) on bad input.
 */
import { isIPv4, isPort } from './address.ts';
import { type ErrorCode, NapError } from './errors.ts';
import { assertSafeFileName } from './file-names.ts';
import {
  badField,
  type JsonObject,
  optionalCount,
  parseMessage,
  requireCount,
  requireString,
  requireStringArray,
} from './json-line.ts';

/** Longest index-protocol line the server reads, newline excluded (DESIGN: 1 MiB). */
export const MAX_INDEX_LINE_BYTES = 1024 * 1024;
/** Longest alias, in characters (code points): a nick, short enough for one chat line. */
export const MAX_ALIAS_CHARS = 32;
/** Longest chat text, in UTF-8 bytes: a typed line; bounds what one CHAT costs every member. */
export const MAX_CHAT_TEXT_BYTES = 4096;

// An alias is one word without ':' (`alias: text` is how chat lines print, seed 002) and without
// control characters (they would break terminals and transcripts).
const ALIAS = new RegExp(`^[^\\s:\\p{Cc}\\p{Cf}]{1,${MAX_ALIAS_CHARS}}$`, 'u');
const CONTROL = /[\p{Cc}]/u;

export interface JoinRequest {
  type: 'JOIN';
  ip: string;
  port: number;
  files: string[];
  /** Seed 002's alias; optional, so the course's JOIN stays valid without it. */
  alias?: string;
}
export interface SearchRequest {
  type: 'SEARCH';
  file: string;
}
export interface UpdateRequest {
  type: 'UPDATE';
  file: string;
}
export interface AliasRequest {
  type: 'ALIAS';
  alias: string;
}
export interface ListRequest {
  type: 'LIST';
}
export interface QueryRequest {
  type: 'QUERY';
  file: string;
}
export interface SetFilesRequest {
  type: 'SET_FILES';
  files: string[];
}
export interface ChatRequest {
  type: 'CHAT';
  text: string;
}
export interface LeaveRequest {
  type: 'LEAVE';
}
export interface PingRequest {
  type: 'PING';
}
export type IndexRequest =
  | JoinRequest
  | SearchRequest
  | UpdateRequest
  | AliasRequest
  | ListRequest
  | QueryRequest
  | SetFilesRequest
  | ChatRequest
  | LeaveRequest
  | PingRequest;

export interface JoinOk {
  type: 'JOIN_OK';
}
export interface SearchOk {
  type: 'SEARCH_OK';
  peers: string[];
}
export interface UpdateOk {
  type: 'UPDATE_OK';
}
export interface AliasOk {
  type: 'ALIAS_OK';
  alias: string;
}
/** One online peer as LIST shows it (seed 002 `/showall`: alias -> address). */
export interface PeerSummary {
  address: string;
  /** Absent for a peer that joined without one (the course's JOIN). */
  alias?: string;
  fileCount: number;
}
export interface ListOk {
  type: 'LIST_OK';
  peers: PeerSummary[];
}
/** A peer holding the file QUERY asked for (seed 002 `/query`). */
export interface FileHolder {
  address: string;
  alias?: string;
}
export interface QueryOk {
  type: 'QUERY_OK';
  file: string;
  peers: FileHolder[];
}
export interface SetFilesOk {
  type: 'SET_FILES_OK';
  fileCount: number;
}
export interface ChatOk {
  type: 'CHAT_OK';
  /** How many members the message was relayed to (the sender excluded). */
  delivered: number;
}
export interface LeaveOk {
  type: 'LEAVE_OK';
}
export interface Pong {
  type: 'PONG';
  /** Silence after which the server drops this connection, now that it has sent a PING. */
  timeoutMs?: number;
}
export interface ErrorReply {
  type: 'ERROR';
  code: ErrorCode | string;
  message: string;
}
export type IndexReply =
  | JoinOk
  | SearchOk
  | UpdateOk
  | AliasOk
  | ListOk
  | QueryOk
  | SetFilesOk
  | ChatOk
  | LeaveOk
  | Pong
  | ErrorReply;

/** Pushed: a chat message relayed from another member (seed 002 `sendToAll`). */
export interface ChatPush {
  type: 'CHAT';
  alias: string;
  /** The sender's announced address (seed 002 shows both). */
  from: string;
  text: string;
}
export type LeaveReason = 'left' | 'closed' | 'timeout';
/** Pushed: a joined peer is gone (LEAVE, closed connection, or no heartbeat in time). */
export interface PeerLeftPush {
  type: 'PEER_LEFT';
  address: string;
  alias?: string;
  reason: LeaveReason;
}
export type IndexPush = ChatPush | PeerLeftPush;

const LEAVE_REASONS: readonly string[] = ['left', 'closed', 'timeout'] satisfies LeaveReason[];

export function decodeIndexRequest(line: string): IndexRequest {
  const message = parseMessage(line);
  switch (message.type) {
    case 'JOIN':
      return decodeJoin(message);
    case 'SEARCH':
    case 'UPDATE':
    case 'QUERY':
      return { type: message.type, file: safeName(message, 'file') };
    case 'ALIAS':
      return { type: 'ALIAS', alias: requireAlias(message, 'alias') };
    case 'SET_FILES':
      return { type: 'SET_FILES', files: safeNames(message, 'files') };
    case 'CHAT':
      return { type: 'CHAT', text: requireChatText(message) };
    case 'LIST':
    case 'LEAVE':
    case 'PING':
      return { type: message.type };
    default:
      throw new NapError('BAD_REQUEST', `Unknown request type ${JSON.stringify(message.type)}.`);
  }
}

function decodeJoin(message: JsonObject): JoinRequest {
  const { ip, port } = message;
  if (!isIPv4(ip)) throw badField(message, 'ip', 'a dotted IPv4 address');
  if (!isPort(port)) throw badField(message, 'port', 'an integer from 1 to 65535');
  const files = safeNames(message, 'files');
  if (message.alias === undefined) return { type: 'JOIN', ip, port, files };
  return { type: 'JOIN', ip, port, files, alias: requireAlias(message, 'alias') };
}

function safeName(message: JsonObject, field: string): string {
  return assertSafeFileName(requireString(message, field));
}

// A name listed twice is one file: keep the first, so the order the peer sent is preserved.
function safeNames(message: JsonObject, field: string): string[] {
  return [...new Set(requireStringArray(message, field).map(assertSafeFileName))];
}

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

function requireAlias(message: JsonObject, field: string): string {
  const alias = requireString(message, field);
  if (aliasProblem(alias) !== null)
    throw badField(message, field, `1 to ${MAX_ALIAS_CHARS} characters without spaces, ":" or controls`);
  return alias;
}

function optionalAlias(message: JsonObject, field: string): string | undefined {
  return message[field] === undefined ? undefined : requireAlias(message, field);
}

function requireChatText(message: JsonObject): string {
  const text = requireString(message, 'text');
  const problem = chatTextProblem(text);
  if (problem !== null) throw new NapError('BAD_REQUEST', `CHAT: ${problem}.`);
  return text;
}

/** Decodes a line from the index server: a reply to the oldest request, or a pushed message. */
export function decodeIndexMessage(line: string): IndexReply | IndexPush {
  const message = parseMessage(line);
  try {
    return message.type === 'CHAT' || message.type === 'PEER_LEFT'
      ? decodePush(message)
      : decodeReply(message);
  } catch (error) {
    if (error instanceof NapError && error.code === 'BAD_REQUEST')
      throw new NapError('PROTOCOL', `The index server sent a malformed message: ${error.message}`);
    throw error;
  }
}

/** Decodes a reply line; a pushed message here is a PROTOCOL error (use decodeIndexMessage). */
export function decodeIndexReply(line: string): IndexReply {
  const message = decodeIndexMessage(line);
  if (isIndexPush(message))
    throw new NapError('PROTOCOL', `Unexpected pushed ${message.type} where a reply was expected.`);
  return message;
}

export function isIndexPush(message: IndexReply | IndexPush): message is IndexPush {
  return message.type === 'CHAT' || message.type === 'PEER_LEFT';
}

function decodeReply(message: JsonObject & { type: string }): IndexReply {
  switch (message.type) {
    case 'JOIN_OK':
    case 'UPDATE_OK':
    case 'LEAVE_OK':
      return { type: message.type };
    case 'SEARCH_OK':
      return { type: 'SEARCH_OK', peers: requireStringArray(message, 'peers') };
    case 'ALIAS_OK':
      return { type: 'ALIAS_OK', alias: requireAlias(message, 'alias') };
    case 'LIST_OK':
      return { type: 'LIST_OK', peers: requireObjects(message, 'peers').map(decodeSummary) };
    case 'QUERY_OK':
      return {
        type: 'QUERY_OK',
        file: requireString(message, 'file'),
        peers: requireObjects(message, 'peers').map(decodeHolder),
      };
    case 'SET_FILES_OK':
      return { type: 'SET_FILES_OK', fileCount: requireCount(message, 'fileCount') };
    case 'CHAT_OK':
      return { type: 'CHAT_OK', delivered: requireCount(message, 'delivered') };
    case 'PONG': {
      const timeoutMs = optionalCount(message, 'timeoutMs');
      return timeoutMs === undefined ? { type: 'PONG' } : { type: 'PONG', timeoutMs };
    }
    case 'ERROR':
      return {
        type: 'ERROR',
        code: requireString(message, 'code'),
        message: requireString(message, 'message'),
      };
    default:
      throw new NapError(
        'PROTOCOL',
        `Unexpected reply type ${JSON.stringify(message.type)} from the index server.`,
      );
  }
}

function decodePush(message: JsonObject & { type: string }): IndexPush {
  if (message.type === 'CHAT') {
    return {
      type: 'CHAT',
      alias: requireAlias(message, 'alias'),
      from: requireString(message, 'from'),
      text: requireChatText(message),
    };
  }
  const reason = requireString(message, 'reason');
  if (!LEAVE_REASONS.includes(reason)) throw badField(message, 'reason', '"left", "closed" or "timeout"');
  return withAlias(
    { type: 'PEER_LEFT', address: requireString(message, 'address'), reason: reason as LeaveReason },
    optionalAlias(message, 'alias'),
  );
}

function decodeSummary(item: JsonObject): PeerSummary {
  return withAlias(
    { address: requireString(item, 'address'), fileCount: requireCount(item, 'fileCount') },
    optionalAlias(item, 'alias'),
  );
}

function decodeHolder(item: JsonObject): FileHolder {
  return withAlias({ address: requireString(item, 'address') }, optionalAlias(item, 'alias'));
}

/** `value` with `alias` set only when there is one (JSON then has no `alias` key at all). */
export function withAlias<T extends object>(value: T, alias: string | undefined): T & { alias?: string } {
  return alias === undefined ? value : { ...value, alias };
}

function requireObjects(message: JsonObject, field: string): JsonObject[] {
  const value = message[field];
  if (
    !Array.isArray(value) ||
    !value.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item))
  )
    throw badField(message, field, 'an array of objects');
  return value as JsonObject[];
}

export function joinRequest(ip: string, port: number, files: string[], alias?: string): JoinRequest {
  return alias === undefined ? { type: 'JOIN', ip, port, files } : { type: 'JOIN', ip, port, files, alias };
}

export function errorReply(code: ErrorCode, message: string): ErrorReply {
  return { type: 'ERROR', code, message };
}
