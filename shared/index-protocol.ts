/**
 * Index protocol codec (docs/protocol.md, "Index protocol" and "Discovery"): what peers and the
 * index server say to each other. The course's JOIN / SEARCH / UPDATE (seed 003) plus the
 * discovery-server requests of seed 002 (alias, peer list, query, shared-file replacement, chat,
 * leave, heartbeat) and the messages the server pushes unasked (CHAT, PEER_LEFT, PROBE).
 * Pure: decode functions throw NapError (BAD_REQUEST, BAD_ADDRESS, UNSAFE_NAME, PROTOCOL) on bad
 * input. Nothing a server sends is trusted: addresses are parsed and formatted again, names and
 * aliases checked, so what the peer prints from a reply is what napshare itself formatted.
 */
import { isIPv4 } from './address.ts';
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
  requirePeerAddress,
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
import { canonicalPeerAddress, peerAddressProblem } from './peer-address.ts';

export {
  aliasKey,
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
/**
 * Longest ERROR `message` a peer accepts, in UTF-8 bytes: napshare's own are one sentence quoting
 * at most a 255-byte name; a server that sends more is not telling a person anything.
 */
export const MAX_ERROR_MESSAGE_BYTES = 2048;
/** An ERROR `code`: upper-case letters, digits and `_`, as NapError codes are. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

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
/**
 * Pushed to a connection that has sent PING, when another connection JOINs with its address or
 * alias: the server asks whether it is still there. Any line sent back in time (napshare's peers
 * send PING) proves it is; otherwise it is dropped and the newcomer gets the address.
 */
export interface ProbePush {
  type: 'PROBE';
}
/** What a member shows its user: relayed chat and departures. */
export type MemberPush = ChatPush | PeerLeftPush;
export type IndexPush = MemberPush | ProbePush;

const PUSH_TYPES: readonly string[] = ['CHAT', 'PEER_LEFT', 'PROBE'] satisfies IndexPush['type'][];

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
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw badField(message, 'port', 'an integer from 1 to 65535');
  // An address nobody can connect to would send every downloader nowhere (or everywhere).
  const problem = peerAddressProblem(ip, port);
  if (problem !== null)
    throw new NapError(
      'BAD_ADDRESS',
      `No peer can connect to ${ip}:${port} (${problem}); announce the address your file server listens on.`,
    );
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

/**
 * Decodes a line from the index server: a reply to the oldest request, or a pushed message. A
 * malformed line, or one carrying an invalid name or address, is a PROTOCOL error of the server.
 */
export function decodeIndexMessage(line: string): IndexReply | IndexPush {
  try {
    const message = parseMessage(line);
    return PUSH_TYPES.includes(message.type) ? decodePush(message) : decodeReply(message);
  } catch (error) {
    if (error instanceof NapError && (error.code === 'BAD_REQUEST' || error.code === 'UNSAFE_NAME'))
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
  return PUSH_TYPES.includes(message.type);
}

/** True when `line` is a JSON object whose `type` is a pushed message's, valid or not. */
export function isPushLine(line: string): boolean {
  try {
    return PUSH_TYPES.includes(parseMessage(line).type);
  } catch {
    return false;
  }
}

function decodeReply(message: JsonObject & { type: string }): IndexReply {
  switch (message.type) {
    case 'JOIN_OK':
    case 'UPDATE_OK':
    case 'LEAVE_OK':
      return { type: message.type };
    case 'SEARCH_OK': {
      const peers = requirePeerAddresses(message, 'peers');
      return withCaps({ type: 'SEARCH_OK', peers }, decodeHolderCaps(message, peers));
    }
    case 'ALIAS_OK':
      return { type: 'ALIAS_OK', alias: requireAlias(message, 'alias') };
    case 'LIST_OK':
      return { type: 'LIST_OK', peers: requireObjects(message, 'peers').map((item) => decodeSummary(item)) };
    case 'QUERY_OK': {
      const peers = requireObjects(message, 'peers').map((item) => decodeHolder(item));
      const caps = decodeHolderCaps(
        message,
        peers.map((holder) => holder.address),
      );
      return withCaps({ type: 'QUERY_OK', file: safeName(message, 'file'), peers }, caps);
    }
    case 'SET_FILES_OK':
      return { type: 'SET_FILES_OK', fileCount: requireCount(message, 'fileCount') };
    case 'CHAT_OK':
      return { type: 'CHAT_OK', delivered: requireCount(message, 'delivered') };
    case 'PONG': {
      const timeoutMs = optionalCount(message, 'timeoutMs');
      return timeoutMs === undefined ? { type: 'PONG' } : { type: 'PONG', timeoutMs };
    }
    case 'ERROR': {
      const code = requireString(message, 'code');
      const text = requireString(message, 'message');
      if (!ERROR_CODE.test(code)) throw badField(message, 'code', 'an upper-case error code');
      if (Buffer.byteLength(text, 'utf8') > MAX_ERROR_MESSAGE_BYTES)
        throw badField(message, 'message', `at most ${MAX_ERROR_MESSAGE_BYTES} bytes`);
      // Free text: shown escaped (terminal-text.ts) by whoever prints it.
      return { type: 'ERROR', code, message: text };
    }
    default:
      throw new NapError(
        'PROTOCOL',
        `Unexpected reply type ${JSON.stringify(message.type)} from the index server.`,
      );
  }
}

function decodePush(message: JsonObject & { type: string }): IndexPush {
  if (message.type === 'PROBE') return { type: 'PROBE' };
  if (message.type === 'CHAT') {
    return {
      type: 'CHAT',
      alias: requireAlias(message, 'alias'),
      from: requirePeerAddress(message, 'from'),
      text: requireChatText(message),
    };
  }
  return withAlias(
    {
      type: 'PEER_LEFT',
      address: requirePeerAddress(message, 'address'),
      reason: requireLeaveReason(message),
    },
    optionalAlias(message, 'alias'),
  );
}

// SEARCH_OK `peers`: each parsed and formatted again, so a line or an escape sequence hidden in
// an "address" is refused, never printed.
function requirePeerAddresses(message: JsonObject, field: string): string[] {
  const value = message[field];
  const peers = Array.isArray(value) ? value.map(canonicalPeerAddress) : undefined;
  if (peers === undefined || peers.some((peer) => peer === undefined))
    throw badField(message, field, 'an array of peer addresses IP:port');
  return peers as string[];
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
