/**
 * LAN mode datagrams (seed 001; docs/protocol.md, "LAN mode"): what members multicast to the group.
 * Chat is plain UTF-8 text, exactly what a person typed, so `socat` or the seed's own Python
 * client can take part. Everything else (offers, withdrawals, queries) starts with a NUL byte and
 * the word "napshare": typed text never holds a NUL, so no chat line can be mistaken for an offer.
 * Pure: encodeX builds bytes, decodeDatagram throws BAD_REQUEST on anything malformed.
 */
import { isIPv4, isPort } from '../../shared/address.ts';
import { NapError } from '../../shared/errors.ts';
import { isSafeFileName } from '../../shared/file-names.ts';
import { parseMessage, requireCount, requireString } from '../../shared/json-line.ts';

/** NUL, "napshare", version 1: the first 10 bytes of every control datagram. */
export const CONTROL_MAGIC = Buffer.from('\u0000napshare\u0001', 'latin1');
/**
 * Longest chat datagram accepted and sent: a few screens of text, and small enough to cross a
 * LAN in a handful of fragments. Anything longer (up to the 64 KiB UDP limit) is dropped unread.
 */
export const MAX_CHAT_BYTES = 8 * 1024;
/**
 * Longest control datagram accepted: an offer is a short JSON object whose biggest field is a
 * file name of at most 255 bytes, so 1 KiB is ample and fits one Ethernet frame.
 */
export const MAX_CONTROL_BYTES = 1024;
/** How an offered file is protected: the only scheme napshare knows (password-guard.ts). */
export const AUTH_SCHEME = 'hmac-sha256';

/** A file offered to the group. Never carries the password, only that one is needed. */
export interface OfferAnnouncement {
  file: string;
  size: number;
  /** The offering member's file server. */
  ip: string;
  port: number;
}

export type LanDatagram =
  | { type: 'CHAT'; lines: string[] }
  | { type: 'OFFER'; offer: OfferAnnouncement }
  | { type: 'WITHDRAW'; ip: string; port: number }
  | { type: 'QUERY' };

// C0 controls but tab, DEL and C1 controls: a peer must not drive our terminal (escape sequences).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARACTER = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The bytes of a chat message: the text, one line, UTF-8, ended by `\n` as socat and netcat send
 * lines (and so that such tools listening to the group show one message a line).
 */
export function encodeChat(text: string): Buffer {
  if (text.trim().length === 0) throw new NapError('BAD_ARGUMENT', 'The message is empty.');
  if (CONTROL_CHARACTER.test(text))
    throw new NapError('BAD_ARGUMENT', 'A message is one line of text without control characters.');
  const bytes = Buffer.from(`${text}\n`, 'utf8');
  if (bytes.length > MAX_CHAT_BYTES)
    throw new NapError('BAD_ARGUMENT', `The message is longer than ${MAX_CHAT_BYTES - 1} bytes.`);
  return bytes;
}

export function encodeOffer(offer: OfferAnnouncement): Buffer {
  return encodeControl({
    type: 'OFFER',
    file: offer.file,
    size: offer.size,
    ip: offer.ip,
    port: offer.port,
    auth: AUTH_SCHEME,
  });
}

/** Tells the group that every offer of the file server ip:port is gone (its member left). */
export function encodeWithdraw(ip: string, port: number): Buffer {
  return encodeControl({ type: 'WITHDRAW', ip, port });
}

/** Asks the members to announce their offers again (a member that just joined). */
export function encodeQuery(): Buffer {
  return encodeControl({ type: 'QUERY' });
}

function encodeControl(message: object): Buffer {
  const bytes = Buffer.concat([CONTROL_MAGIC, Buffer.from(JSON.stringify(message), 'utf8')]);
  if (bytes.length > MAX_CONTROL_BYTES) throw new NapError('BAD_ARGUMENT', 'The announcement is too long.');
  return bytes;
}

export function isControlDatagram(data: Buffer): boolean {
  return data.length > 0 && data[0] === 0;
}

/** Decodes one datagram received from the group. Throws BAD_REQUEST when it is malformed. */
export function decodeDatagram(data: Buffer): LanDatagram {
  return isControlDatagram(data) ? decodeControl(data) : decodeChat(data);
}

/**
 * Chat text: a datagram may hold several lines (socat sends what it read, newlines included);
 * blank lines are dropped, a trailing CR is tolerated.
 */
function decodeChat(data: Buffer): LanDatagram {
  if (data.length > MAX_CHAT_BYTES) throw malformed(`a chat datagram longer than ${MAX_CHAT_BYTES} bytes`);
  let text: string;
  try {
    text = UTF8.decode(data);
  } catch {
    throw malformed('a chat datagram that is not UTF-8 text');
  }
  const lines = text
    .split('\n')
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
    .filter((line) => line.trim().length > 0);
  if (lines.length === 0) throw malformed('an empty chat datagram');
  if (lines.some((line) => CONTROL_CHARACTER.test(line)))
    throw malformed('chat text with control characters');
  return { type: 'CHAT', lines };
}

function decodeControl(data: Buffer): LanDatagram {
  if (data.length > MAX_CONTROL_BYTES)
    throw malformed(`a control datagram longer than ${MAX_CONTROL_BYTES} bytes`);
  if (data.length < CONTROL_MAGIC.length || !data.subarray(0, CONTROL_MAGIC.length).equals(CONTROL_MAGIC))
    throw malformed('a datagram starting with NUL that is not a napshare announcement');
  let body: string;
  try {
    body = UTF8.decode(data.subarray(CONTROL_MAGIC.length));
  } catch {
    throw malformed('an announcement that is not UTF-8');
  }
  const message = parseMessage(body);
  switch (message.type) {
    case 'OFFER': {
      const file = requireString(message, 'file');
      const size = requireCount(message, 'size');
      const ip = message.ip;
      const port = message.port;
      if (!isSafeFileName(file)) throw malformed('an offer of an unsafe file name');
      if (!isIPv4(ip) || !isPort(port)) throw malformed('an offer without a valid IPv4 address and port');
      // A scheme we do not know (a later version) cannot be answered: ignore the offer.
      if (message.auth !== AUTH_SCHEME) throw malformed('an offer with an unknown authentication scheme');
      return { type: 'OFFER', offer: { file, size, ip, port } };
    }
    case 'WITHDRAW': {
      const { ip, port } = message;
      if (!isIPv4(ip) || !isPort(port)) throw malformed('a withdrawal without a valid IPv4 address and port');
      return { type: 'WITHDRAW', ip, port };
    }
    case 'QUERY':
      return { type: 'QUERY' };
    default:
      throw malformed(`an announcement of unknown type ${JSON.stringify(message.type)}`);
  }
}

/** `what` says what was ignored, with its article: "an empty chat datagram". */
function malformed(what: string): NapError {
  return new NapError('BAD_REQUEST', `Ignored ${what}.`);
}
