/**
 * Index protocol codec (docs/protocol.md, "Index protocol" and "Discovery"): what peers and the
 * index server say to each other. The course's JOIN / SEARCH / UPDATE (seed 003) plus the
 * discovery-server requests of seed 002 (alias, peer list, query, shared-file replacement, chat,
 * leave, heartbeat) and the two messages the server pushes unasked (CHAT, PEER_LEFT).
 * Pure: decode functions throw NapError (BAD_REQUEST, UNSAFE_NAME, PROTOCOL) on bad input.
 */
import { isIPv4, isPort } from './address.ts';
import { decodeHolderCaps, decodeJoinCaps, type HolderCaps } from './capabilities.ts';
import {
  decodeHolder,
  decodeSummary,
  type FileHolder,
  type LeaveReason,
  optionalAlias,
  type PeerSummary,
  requireAlias,
  requireChatText,
  requireLeaveReason,
  requireObjects,
  withAlias,
} from './discovery-fields.ts';
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

export {
  aliasProblem,
  assertAlias,
  chatTextProblem,
  type FileHolder,
  type LeaveReason,
  MAX_ALIAS_CHARS,
  MAX_CHAT_TEXT_BYTES,
  type PeerSummary,
  withAlias,
} from './discovery-fields.ts';

/** Longest index-protocol line the server reads, newline excluded (DESIGN: 1 MiB). */
export const MAX_INDEX_LINE_BYTES = 1024 * 1024;

export interface JoinRequest {
  type: 'JOIN';
  ip: string;
  port: number;
  files: string[];
  /** Seed 002's alias; optional, so the course's JOIN stays valid without it. */
  alias?: string;
  /** Known capability tokens announced (shared/capabilities.ts); absent: none (a course peer). */
  caps?: string[];
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
  /** Listed holders that announced capabilities; absent when none did. */
  caps?: HolderCaps;
}
export interface UpdateOk {
  type: 'UPDATE_OK';
}
export interface AliasOk {
  type: 'ALIAS_OK';
  alias: string;
}
export interface ListOk {
  type: 'LIST_OK';
  peers: PeerSummary[];
}
export interface QueryOk {
  type: 'QUERY_OK';
  file: string;
  peers: FileHolder[];
  /** As in SearchOk, keyed by the holders' `address`. */
  caps?: HolderCaps;
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
/** Pushed: a joined peer is gone (LEAVE, closed connection, or no heartbeat in time). */
export interface PeerLeftPush {
  type: 'PEER_LEFT';
  address: string;
  alias?: string;
  reason: LeaveReason;
}
export type IndexPush = ChatPush | PeerLeftPush;

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
  const caps = decodeJoinCaps(message);
  const join: JoinRequest = { type: 'JOIN', ip, port, files };
  if (message.alias !== undefined) join.alias = requireAlias(message, 'alias');
  if (caps !== undefined && caps.length > 0) join.caps = caps;
  return join;
}

function safeName(message: JsonObject, field: string): string {
  return assertSafeFileName(requireString(message, field));
}

// A name listed twice is one file: keep the first, so the order the peer sent is preserved.
function safeNames(message: JsonObject, field: string): string[] {
  return [...new Set(requireStringArray(message, field).map(assertSafeFileName))];
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
    case 'SEARCH_OK': {
      const peers = requireStringArray(message, 'peers');
      return withCaps({ type: 'SEARCH_OK', peers }, decodeHolderCaps(message, peers));
    }
    case 'ALIAS_OK':
      return { type: 'ALIAS_OK', alias: requireAlias(message, 'alias') };
    case 'LIST_OK':
      return { type: 'LIST_OK', peers: requireObjects(message, 'peers').map(decodeSummary) };
    case 'QUERY_OK': {
      const peers = requireObjects(message, 'peers').map(decodeHolder);
      const caps = decodeHolderCaps(
        message,
        peers.map((holder) => holder.address),
      );
      return withCaps({ type: 'QUERY_OK', file: requireString(message, 'file'), peers }, caps);
    }
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
  return withAlias(
    { type: 'PEER_LEFT', address: requireString(message, 'address'), reason: requireLeaveReason(message) },
    optionalAlias(message, 'alias'),
  );
}

export function joinRequest(
  ip: string,
  port: number,
  files: string[],
  alias?: string,
  caps?: readonly string[],
): JoinRequest {
  const join: JoinRequest = { type: 'JOIN', ip, port, files };
  if (alias !== undefined) join.alias = alias;
  if (caps !== undefined && caps.length > 0) join.caps = [...caps];
  return join;
}

/** `reply` with `caps` set only when a holder announced some (the course's reply stays as it was). */
export function withCaps<T extends object>(
  reply: T,
  caps: HolderCaps | undefined,
): T & { caps?: HolderCaps } {
  return caps === undefined || Object.keys(caps).length === 0 ? reply : { ...reply, caps };
}

export function errorReply(code: ErrorCode, message: string): ErrorReply {
  return { type: 'ERROR', code, message };
}
