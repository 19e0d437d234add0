/**
 * Transfer protocol codec (docs/protocol.md, "Transfer protocol"): what a downloader and a peer's
 * file server say on the peer's announced port. One request per connection. DOWNLOAD_OK is
 * followed by exactly `size` raw bytes, then the uploader closes.
 */
import { type ErrorCode, NapError } from './errors.ts';
import { assertSafeFileName } from './file-names.ts';
import {
  badField,
  type JsonObject,
  optionalCount,
  optionalString,
  parseMessage,
  requireCount,
  requireString,
  requireStringArray,
} from './json-line.ts';
import { MAX_PIECE_BYTES } from './pieces.ts';

/**
 * Longest request line a file server reads: requests are one short JSON object; 64 KiB leaves room
 * for any safe name and stops a client from making the server buffer without end.
 */
export const MAX_TRANSFER_REQUEST_BYTES = 64 * 1024;
/**
 * Longest reply line a downloader reads: INFO_OK carries one SHA-256 per piece (67 bytes each:
 * 550 KiB for MAX_PIECES, 16 MiB for a 15 TiB file); the bound stops a server that talks without end.
 */
export const MAX_TRANSFER_REPLY_BYTES = 16 * 1024 * 1024;

export type RejectReason =
  | 'NOT_FOUND'
  | 'UNSAFE_NAME'
  | 'BUSY'
  | 'BAD_REQUEST'
  | 'BAD_RANGE'
  | 'AUTH_FAILED'
  | 'CHANGED'
  | 'IO_ERROR'
  // No request (or no answer to a password challenge) within the file server's request timeout.
  | 'TIMEOUT';

/** Ask for `length` bytes (default: to the end) of `file` starting at `offset` (default 0). */
export interface DownloadRequest {
  type: 'DOWNLOAD';
  file: string;
  offset?: number;
  length?: number;
  /** The `version` of INFO_OK the downloader verifies against: refused with CHANGED if the file changed. */
  version?: string;
}
/** Ask for a file's size, SHA-256 and piece hashes (for verification, resume, multi-source). */
export interface InfoRequest {
  type: 'INFO';
  file: string;
  /**
   * The downloader verifies by prefix hashes and takes them streamed (INFO_HEAD, PREFIXES...,
   * INFO_END) as the uploader computes them; an uploader that does not know it answers INFO_OK.
   */
  prefixes?: true;
}
/** Ask which shared names match a keyword (exact name or one of its words; no keyword: all). */
export interface ListRequest {
  type: 'LIST';
  keyword?: string;
}
/** Answer to AUTH_CHALLENGE on password-protected file servers (LAN mode). */
export interface AuthResponse {
  type: 'AUTH';
  proof: string;
}
export type TransferRequest = DownloadRequest | InfoRequest | ListRequest;

export interface DownloadOk {
  type: 'DOWNLOAD_OK';
  /** Number of raw bytes that follow this line. */
  size: number;
}
export interface DownloadRejected {
  type: 'DOWNLOAD_REJECTED';
  reason: RejectReason | string;
  message?: string;
}
export interface FileInfo {
  size: number;
  sha256: string;
  pieceSize: number;
  /** SHA-256 (hex) of each piece, in order; the last piece may be shorter. */
  pieces: string[];
  /**
   * Opaque token of the uploader's copy that changes whenever the file does (napshare: size,
   * modification time and inode); absent from uploaders that do not track it.
   */
  version?: string;
}
export interface InfoOk extends FileInfo {
  type: 'INFO_OK';
}
/** First line of a streamed INFO: what the prefix hashes will describe. */
export interface InfoHead {
  type: 'INFO_HEAD';
  size: number;
  pieceSize: number;
  version?: string;
}
/**
 * Prefix hashes `first`, `first + 1`...: prefix i is the SHA-256 of the file's bytes from 0 to the
 * end of piece i, so the last one is the file's SHA-256.
 */
export interface PrefixesLine {
  type: 'PREFIXES';
  first: number;
  hashes: string[];
}
/** Last line of a streamed INFO: the file's SHA-256 (its last prefix hash). */
export interface InfoEnd {
  type: 'INFO_END';
  sha256: string;
}
export interface ListOk {
  type: 'LIST_OK';
  files: string[];
}
export interface AuthChallenge {
  type: 'AUTH_CHALLENGE';
  nonce: string;
}
export type TransferReply =
  | DownloadOk
  | DownloadRejected
  | InfoOk
  | InfoHead
  | PrefixesLine
  | InfoEnd
  | ListOk
  | AuthChallenge;

/** Prefix hashes per PREFIXES line at most (about 68 KiB), so no line grows with the file. */
export const MAX_PREFIXES_PER_LINE = 1024;
/**
 * Pieces a streamed INFO may announce: as many as an INFO_OK line of MAX_TRANSFER_REPLY_BYTES can
 * list, so a downloader's per-piece tables stay as bounded as with INFO_OK (a 16 TiB file).
 */
export const MAX_STREAMED_PIECES = MAX_TRANSFER_REPLY_BYTES / 64;

/** A keyword has to be a plausible word or name; bounded like a file name. */
const MAX_KEYWORD_BYTES = 255;
/** A `version` is a short token (napshare's is about 40 characters): printable ASCII, no spaces. */
export const MAX_VERSION_CHARS = 64;
const VERSION = new RegExp(`^[\\x21-\\x7e]{1,${MAX_VERSION_CHARS}}$`);

function optionalVersion(message: JsonObject): string | undefined {
  const version = optionalString(message, 'version');
  if (version !== undefined && !VERSION.test(version))
    throw badField(message, 'version', `1 to ${MAX_VERSION_CHARS} printable ASCII characters`);
  return version;
}

export function decodeTransferRequest(line: string): TransferRequest {
  const message = parseMessage(line);
  switch (message.type) {
    case 'DOWNLOAD': {
      const request: DownloadRequest = {
        type: 'DOWNLOAD',
        file: assertSafeFileName(requireString(message, 'file')),
      };
      const offset = optionalCount(message, 'offset');
      const length = optionalCount(message, 'length');
      const version = optionalVersion(message);
      if (offset !== undefined) request.offset = offset;
      if (length !== undefined) request.length = length;
      if (version !== undefined) request.version = version;
      return request;
    }
    case 'INFO': {
      const file = assertSafeFileName(requireString(message, 'file'));
      if (message.prefixes === undefined) return { type: 'INFO', file };
      if (message.prefixes !== true) throw badField(message, 'prefixes', 'true');
      return { type: 'INFO', file, prefixes: true };
    }
    case 'LIST': {
      const keyword = optionalString(message, 'keyword');
      if (keyword !== undefined && (keyword.length === 0 || Buffer.byteLength(keyword) > MAX_KEYWORD_BYTES)) {
        throw badField(message, 'keyword', `a non-empty string of at most ${MAX_KEYWORD_BYTES} bytes`);
      }
      return keyword === undefined ? { type: 'LIST' } : { type: 'LIST', keyword };
    }
    default:
      throw new NapError('BAD_REQUEST', `Unknown request type ${JSON.stringify(message.type)}.`);
  }
}

export function decodeAuthResponse(line: string): AuthResponse {
  const message = parseMessage(line);
  if (message.type !== 'AUTH') throw new NapError('BAD_REQUEST', 'Expected an AUTH message.');
  const proof = requireString(message, 'proof');
  if (!/^[0-9a-f]{64}$/.test(proof)) throw badField(message, 'proof', '64 lower-case hex digits');
  return { type: 'AUTH', proof };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function decodeTransferReply(line: string): TransferReply {
  const message = parseMessage(line);
  switch (message.type) {
    case 'DOWNLOAD_OK':
      return { type: 'DOWNLOAD_OK', size: requireCount(message, 'size') };
    case 'DOWNLOAD_REJECTED': {
      const reply: DownloadRejected = { type: 'DOWNLOAD_REJECTED', reason: requireString(message, 'reason') };
      const text = optionalString(message, 'message');
      if (text !== undefined) reply.message = text;
      return reply;
    }
    case 'INFO_OK':
      return { type: 'INFO_OK', ...decodeFileInfo(message) };
    case 'INFO_HEAD': {
      const head: InfoHead = {
        type: 'INFO_HEAD',
        size: requireCount(message, 'size'),
        pieceSize: requirePieceSize(message),
      };
      if (Math.ceil(head.size / head.pieceSize) > MAX_STREAMED_PIECES)
        throw badField(message, 'size', `at most ${MAX_STREAMED_PIECES} pieces of pieceSize`);
      const version = optionalVersion(message);
      if (version !== undefined) head.version = version;
      return head;
    }
    case 'PREFIXES': {
      const hashes = requireStringArray(message, 'hashes');
      if (
        hashes.length === 0 ||
        hashes.length > MAX_PREFIXES_PER_LINE ||
        !hashes.every((h) => SHA256_HEX.test(h))
      )
        throw badField(message, 'hashes', `1 to ${MAX_PREFIXES_PER_LINE} SHA-256 hashes (lower-case hex)`);
      return { type: 'PREFIXES', first: requireCount(message, 'first'), hashes };
    }
    case 'INFO_END':
      return { type: 'INFO_END', sha256: requireSha256(message, 'sha256') };
    case 'LIST_OK':
      return { type: 'LIST_OK', files: requireStringArray(message, 'files') };
    case 'AUTH_CHALLENGE': {
      const nonce = requireString(message, 'nonce');
      if (!/^[0-9a-f]{32,128}$/.test(nonce)) throw badField(message, 'nonce', '32 to 128 hex digits');
      return { type: 'AUTH_CHALLENGE', nonce };
    }
    default:
      throw new NapError('PROTOCOL', `Unexpected reply type ${JSON.stringify(message.type)} from the peer.`);
  }
}

function requireSha256(message: JsonObject, field: string): string {
  const hash = requireString(message, field);
  if (!SHA256_HEX.test(hash)) throw badField(message, field, '64 lower-case hex digits');
  return hash;
}

/** A hostile source must not make the downloader allocate huge piece buffers. */
function requirePieceSize(message: JsonObject): number {
  const pieceSize = requireCount(message, 'pieceSize');
  if (pieceSize < 1 || pieceSize > MAX_PIECE_BYTES) {
    throw badField(message, 'pieceSize', `an integer from 1 to ${MAX_PIECE_BYTES}`);
  }
  return pieceSize;
}

function decodeFileInfo(message: JsonObject): FileInfo {
  const size = requireCount(message, 'size');
  const sha256 = requireSha256(message, 'sha256');
  const pieceSize = requirePieceSize(message);
  const pieces = requireStringArray(message, 'pieces');
  if (pieces.length !== Math.ceil(size / pieceSize) || !pieces.every((hash) => SHA256_HEX.test(hash))) {
    throw badField(message, 'pieces', 'one SHA-256 per piece of the file');
  }
  const version = optionalVersion(message);
  return version === undefined
    ? { size, sha256, pieceSize, pieces }
    : { size, sha256, pieceSize, pieces, version };
}

export function rejection(reason: RejectReason, message: string): DownloadRejected {
  return { type: 'DOWNLOAD_REJECTED', reason, message };
}

/** Rejection reasons that keep a code of their own on the downloader's side; the rest are REJECTED. */
const REJECTION_CODES: Partial<Record<string, ErrorCode>> = {
  // A busy peer is worth asking again later, a missing file is not.
  BUSY: 'BUSY',
  NOT_FOUND: 'NOT_FOUND',
  // The file changed since INFO: ask INFO again and fetch the new version.
  CHANGED: 'CHANGED',
  // The peer did not understand the request: a protocol error of that peer.
  BAD_REQUEST: 'PROTOCOL',
};

/** The error a downloader raises for a DOWNLOAD_REJECTED reply (REJECTION_CODES). */
export function rejectionError(peer: string, file: string, reply: DownloadRejected): NapError {
  const code = (Object.hasOwn(REJECTION_CODES, reply.reason) && REJECTION_CODES[reply.reason]) || 'REJECTED';
  const detail = reply.message ? ` (${reply.message.replace(/\.$/, '')})` : '';
  return new NapError(code, `The ${peer} refused ${file}: ${reply.reason}${detail}.`);
}
