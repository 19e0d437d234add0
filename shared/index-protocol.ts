/**
 * Index protocol codec (docs/protocol.md, "Index protocol"): what peers and the index server say
 * to each other. Pure: decode functions throw NapError (BAD_REQUEST, UNSAFE_NAME) on bad input.
 */
import { isIPv4, isPort } from './address.ts';
import { type ErrorCode, NapError } from './errors.ts';
import { assertSafeFileName } from './file-names.ts';
import { badField, type JsonObject, parseMessage, requireString, requireStringArray } from './json-line.ts';

/** Longest index-protocol line the server reads, newline excluded (DESIGN: 1 MiB). */
export const MAX_INDEX_LINE_BYTES = 1024 * 1024;

export interface JoinRequest {
  type: 'JOIN';
  ip: string;
  port: number;
  files: string[];
}
export interface SearchRequest {
  type: 'SEARCH';
  file: string;
}
export interface UpdateRequest {
  type: 'UPDATE';
  file: string;
}
export type IndexRequest = JoinRequest | SearchRequest | UpdateRequest;

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
export interface ErrorReply {
  type: 'ERROR';
  code: ErrorCode | string;
  message: string;
}
export type IndexReply = JoinOk | SearchOk | UpdateOk | ErrorReply;

export function decodeIndexRequest(line: string): IndexRequest {
  const message = parseMessage(line);
  switch (message.type) {
    case 'JOIN':
      return decodeJoin(message);
    case 'SEARCH':
      return { type: 'SEARCH', file: safeName(message, 'file') };
    case 'UPDATE':
      return { type: 'UPDATE', file: safeName(message, 'file') };
    default:
      throw new NapError('BAD_REQUEST', `Unknown request type ${JSON.stringify(message.type)}.`);
  }
}

function decodeJoin(message: JsonObject): JoinRequest {
  const { ip, port } = message;
  if (!isIPv4(ip)) throw badField(message, 'ip', 'a dotted IPv4 address');
  if (!isPort(port)) throw badField(message, 'port', 'an integer from 1 to 65535');
  const files = requireStringArray(message, 'files').map(assertSafeFileName);
  // A name listed twice is one file: keep the first, so the order the peer sent is preserved.
  return { type: 'JOIN', ip, port, files: [...new Set(files)] };
}

function safeName(message: JsonObject, field: string): string {
  return assertSafeFileName(requireString(message, field));
}

export function decodeIndexReply(line: string): IndexReply {
  const message = parseMessage(line);
  switch (message.type) {
    case 'JOIN_OK':
    case 'UPDATE_OK':
      return { type: message.type };
    case 'SEARCH_OK':
      return { type: 'SEARCH_OK', peers: requireStringArray(message, 'peers') };
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

export function joinRequest(ip: string, port: number, files: string[]): JoinRequest {
  return { type: 'JOIN', ip, port, files };
}

export function errorReply(code: ErrorCode, message: string): ErrorReply {
  return { type: 'ERROR', code, message };
}
