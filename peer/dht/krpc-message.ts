/**
 * KRPC, the Mainline DHT's messages (BEP 5, and BEP 44 get/put), checked field by field. Pure.
 *
 * bittorrent-dht trusts what it receives: an integer where it expects a 20-byte string, a list
 * where it expects a token, and it throws from inside its socket handler, which stops the daemon.
 * So every datagram is decoded here first (guarded-socket.ts). `decodeKrpc` throws PROTOCOL, with
 * a sentence saying what is wrong, on anything malformed; what it returns holds only the fields
 * the library reads, each of the right type and length, and `encodeKrpc` turns that back into the
 * canonical bytes the library is given. Fields the library does not read (a client version `v`,
 * BEP 32's `want`, BEP 42's `ip`...) are dropped without being judged. docs/protocol.md, "DHT
 * mode", lists every rule.
 */
import { NapError } from '../../shared/errors.ts';
import { type BencodeDict, type BencodeValue, decodeBencode, encodeBencode, isDict } from './bencode.ts';

/**
 * Longest datagram read. A KRPC message is meant to fit one unfragmented datagram (about 1.5 kB:
 * a find_node answer with 8 nodes is about 250 bytes, a BEP 44 value is at most 1000); 8 KiB
 * leaves room for generous implementations and drops bigger junk before any decoding.
 */
export const MAX_KRPC_BYTES = 8 * 1024;
/** Node ids, info-hashes and targets: SHA-1 sized (BEP 5). */
export const ID_BYTES = 20;
/**
 * Transaction ids of queries we answer (we echo them back). Clients use 2 to 4 bytes (libtorrent,
 * Transmission, aria2); 16 is plenty and bounds what each of our answers repeats.
 */
export const MAX_TRANSACTION_ID_BYTES = 16;
/** Our own queries carry 2-byte transaction ids: an answer carrying another length is not to us. */
export const OUR_TRANSACTION_ID_BYTES = 2;
/**
 * Tokens (get_peers answers, announce_peer and put queries). libtorrent uses 4 bytes,
 * bittorrent-dht 20; 64 is a margin and bounds what we keep per node and send back.
 */
export const MAX_TOKEN_BYTES = 64;
/** Method names: the longest standard one, `sample_infohashes` (BEP 51), has 17 bytes. */
export const MAX_METHOD_BYTES = 32;
/** An error's message: read by a person in a --verbose log line. */
export const MAX_ERROR_MESSAGE_BYTES = 256;
/** Compact node info: 20-byte id, 4-byte IPv4, 2-byte port (BEP 5). */
export const COMPACT_NODE_BYTES = 26;
/** Compact peer info: 4-byte IPv4, 2-byte port (BEP 5). */
export const COMPACT_PEER_BYTES = 6;
/** BEP 44: a stored value encodes to at most 1000 bytes. */
export const MAX_VALUE_BYTES = 1000;
/** BEP 44: ed25519 public key, signature, and the longest salt. */
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const MAX_SALT_BYTES = 64;

/** A query's arguments the library reads (which ones depends on the method). */
export interface QueryArgs {
  id: Buffer;
  target?: Buffer;
  info_hash?: Buffer;
  port?: number;
  implied_port?: number;
  token?: Buffer;
  v?: BencodeValue;
  k?: Buffer;
  sig?: Buffer;
  seq?: number;
  cas?: number;
  salt?: Buffer;
}

/** An answer's values the library reads. */
export interface ResponseValues {
  id: Buffer;
  nodes?: Buffer;
  token?: Buffer;
  values?: Buffer[];
  v?: BencodeValue;
  k?: Buffer;
  sig?: Buffer;
  seq?: number;
}

export type KrpcMessage =
  | { y: 'q'; t: Buffer; q: string; a: QueryArgs }
  | { y: 'r'; t: Buffer; r: ResponseValues }
  | { y: 'e'; t: Buffer; e: { code: number; message: Buffer } };

/** Decodes and checks one datagram. Throws PROTOCOL with what is wrong. */
export function decodeKrpc(datagram: Uint8Array): KrpcMessage {
  if (datagram.length > MAX_KRPC_BYTES)
    throw malformed(`a datagram of ${datagram.length} bytes (at most ${MAX_KRPC_BYTES} are read)`);
  const top = decodeBencode(datagram);
  if (!isDict(top)) throw malformed(`a message that is ${describe(top)}, not a dictionary`);
  const y = bytes(top, 'y', 'the message', 1, 1).toString('latin1');
  switch (y) {
    case 'q':
      return decodeQuery(top);
    case 'r':
      return decodeResponse(top);
    case 'e':
      return decodeError(top);
    default:
      throw malformed(`a message of type y=${JSON.stringify(y)} (expected q, r or e)`);
  }
}

/** The canonical bytes of a message: exactly its fields, dict keys sorted. */
export function encodeKrpc(message: KrpcMessage): Buffer {
  const top: BencodeDict = new Map<string, BencodeValue>([
    ['t', message.t],
    ['y', Buffer.from(message.y, 'latin1')],
  ]);
  switch (message.y) {
    case 'q':
      top.set('q', Buffer.from(message.q, 'latin1'));
      top.set('a', dictOf({ ...message.a }));
      break;
    case 'r':
      top.set('r', dictOf({ ...message.r }));
      break;
    case 'e':
      top.set('e', [message.e.code, message.e.message]);
      break;
  }
  return encodeBencode(top);
}

function decodeQuery(top: BencodeDict): KrpcMessage {
  const t = bytes(top, 't', 'a query', 1, MAX_TRANSACTION_ID_BYTES);
  const q = bytes(top, 'q', 'a query', 1, MAX_METHOD_BYTES).toString('latin1');
  const where = `${q} query`;
  const a = top.get('a');
  if (!isDict(a)) throw malformed(`${where}: a (the arguments) is ${describe(a)}, not a dictionary`);
  const args: QueryArgs = { id: bytes(a, 'id', where, ID_BYTES, ID_BYTES) };
  switch (q) {
    case 'ping':
      break;
    case 'find_node':
    case 'get':
      args.target = bytes(a, 'target', where, ID_BYTES, ID_BYTES);
      break;
    case 'get_peers':
      args.info_hash = bytes(a, 'info_hash', where, ID_BYTES, ID_BYTES);
      break;
    case 'announce_peer': {
      args.info_hash = bytes(a, 'info_hash', where, ID_BYTES, ID_BYTES);
      args.token = bytes(a, 'token', where, 1, MAX_TOKEN_BYTES);
      const implied = optionalInteger(a, 'implied_port', where, 0, 1);
      if (implied !== undefined) args.implied_port = implied;
      // With implied_port 1 the port is the datagram's source port (bittorrent-dht then sends 0).
      const port =
        implied === 1 ? optionalInteger(a, 'port', where, 0, 65535) : integer(a, 'port', where, 1, 65535);
      if (port !== undefined) args.port = port;
      break;
    }
    case 'put':
      decodePut(a, where, args);
      break;
    default:
      // A method the library does not know (BEP 51's sample_infohashes...): it only notes the sender.
      break;
  }
  return { y: 'q', t, q, a: args };
}

/** BEP 44 put: an immutable value, or a mutable one with its key, signature and sequence number. */
function decodePut(a: BencodeDict, where: string, args: QueryArgs): void {
  args.token = bytes(a, 'token', where, 1, MAX_TOKEN_BYTES);
  args.v = storedValue(a, where, true) as BencodeValue;
  if (!a.has('k') && !a.has('sig')) return;
  args.k = bytes(a, 'k', where, PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES);
  args.sig = bytes(a, 'sig', where, SIGNATURE_BYTES, SIGNATURE_BYTES);
  args.seq = integer(a, 'seq', where, 0, Number.MAX_SAFE_INTEGER);
  const cas = optionalInteger(a, 'cas', where, 0, Number.MAX_SAFE_INTEGER);
  if (cas !== undefined) args.cas = cas;
  const salt = optionalBytes(a, 'salt', where, 0, MAX_SALT_BYTES);
  if (salt !== undefined) args.salt = salt;
}

function decodeResponse(top: BencodeDict): KrpcMessage {
  const t = bytes(top, 't', 'an answer', OUR_TRANSACTION_ID_BYTES, OUR_TRANSACTION_ID_BYTES);
  const where = 'answer';
  const r = top.get('r');
  if (!isDict(r)) throw malformed(`${where}: r (the values) is ${describe(r)}, not a dictionary`);
  const values: ResponseValues = { id: bytes(r, 'id', where, ID_BYTES, ID_BYTES) };
  const nodes = optionalBytes(r, 'nodes', where, 0, MAX_KRPC_BYTES);
  if (nodes !== undefined) {
    if (nodes.length % COMPACT_NODE_BYTES !== 0)
      throw malformed(`${where}: nodes has ${nodes.length} bytes, not a multiple of ${COMPACT_NODE_BYTES}`);
    values.nodes = nodes;
  }
  const token = optionalBytes(r, 'token', where, 1, MAX_TOKEN_BYTES);
  if (token !== undefined) values.token = token;
  const peers = r.get('values');
  if (peers !== undefined) {
    if (!Array.isArray(peers)) throw malformed(`${where}: values is ${describe(peers)}, not a list`);
    for (const peer of peers) {
      if (!Buffer.isBuffer(peer) || peer.length !== COMPACT_PEER_BYTES)
        throw malformed(
          `${where}: a peer in values is ${describe(peer)}, not a ${COMPACT_PEER_BYTES}-byte string`,
        );
    }
    values.values = peers as Buffer[];
  }
  const v = storedValue(r, where, false);
  if (v !== undefined) values.v = v;
  const k = optionalBytes(r, 'k', where, PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES);
  if (k !== undefined) values.k = k;
  const sig = optionalBytes(r, 'sig', where, SIGNATURE_BYTES, SIGNATURE_BYTES);
  if (sig !== undefined) values.sig = sig;
  const seq = optionalInteger(r, 'seq', where, 0, Number.MAX_SAFE_INTEGER);
  if (seq !== undefined) values.seq = seq;
  return { y: 'r', t, r: values };
}

function decodeError(top: BencodeDict): KrpcMessage {
  const t = bytes(top, 't', 'an error', OUR_TRANSACTION_ID_BYTES, OUR_TRANSACTION_ID_BYTES);
  const e = top.get('e');
  if (!Array.isArray(e)) throw malformed(`an error whose e is ${describe(e)}, not a list`);
  const [code, message] = e;
  if (typeof code !== 'number') throw malformed(`an error whose code is ${describe(code)}, not an integer`);
  if (message !== undefined && (!Buffer.isBuffer(message) || message.length > MAX_ERROR_MESSAGE_BYTES))
    throw malformed(
      `an error whose message is ${describe(message)}, not a string of ${MAX_ERROR_MESSAGE_BYTES} bytes at most`,
    );
  return { y: 'e', t, e: { code, message: message ?? Buffer.alloc(0) } };
}

/**
 * BEP 44's `v`: any value encoding to at most 1000 bytes. Its dictionaries must not use the key
 * `__proto__`: the library's own decoder would turn it into an object's prototype.
 */
function storedValue(dict: BencodeDict, where: string, required: boolean): BencodeValue | undefined {
  const v = dict.get('v');
  if (v === undefined) {
    if (required) throw malformed(`${where}: no value (v)`);
    return undefined;
  }
  const size = encodeBencode(v).length;
  if (size > MAX_VALUE_BYTES)
    throw malformed(`${where}: a value (v) of ${size} bytes (at most ${MAX_VALUE_BYTES})`);
  if (hasProtoKey(v)) throw malformed(`${where}: a value (v) with a dictionary key __proto__`);
  return v;
}

function hasProtoKey(value: BencodeValue): boolean {
  if (Array.isArray(value)) return value.some(hasProtoKey);
  if (!isDict(value)) return false;
  for (const [key, item] of value) if (key === '__proto__' || hasProtoKey(item)) return true;
  return false;
}

function bytes(dict: BencodeDict, key: string, where: string, min: number, max: number): Buffer {
  const value = optionalBytes(dict, key, where, min, max);
  if (value === undefined) throw malformed(`${where}: no ${key}`);
  return value;
}

function optionalBytes(
  dict: BencodeDict,
  key: string,
  where: string,
  min: number,
  max: number,
): Buffer | undefined {
  const value = dict.get(key);
  if (value === undefined) return undefined;
  if (!Buffer.isBuffer(value) || value.length < min || value.length > max) {
    const wanted = min === max ? `a ${min}-byte string` : `a string of ${min} to ${max} bytes`;
    throw malformed(`${where}: ${key} is ${describe(value)}, not ${wanted}`);
  }
  return value;
}

function integer(dict: BencodeDict, key: string, where: string, min: number, max: number): number {
  const value = optionalInteger(dict, key, where, min, max);
  if (value === undefined) throw malformed(`${where}: no ${key}`);
  return value;
}

function optionalInteger(
  dict: BencodeDict,
  key: string,
  where: string,
  min: number,
  max: number,
): number | undefined {
  const value = dict.get(key);
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || value < min || value > max)
    throw malformed(`${where}: ${key} is ${describe(value)}, not an integer from ${min} to ${max}`);
  return value;
}

/** A dictionary of the fields that are set. */
function dictOf(fields: Record<string, BencodeValue | undefined>): BencodeDict {
  const dict: BencodeDict = new Map();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) dict.set(key, value);
  return dict;
}

/** "the integer 5", "a 3-byte string", "a list", "a dictionary", "missing". */
function describe(value: BencodeValue | undefined): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'number') return `the integer ${value}`;
  if (Buffer.isBuffer(value)) return `a ${value.length}-byte string`;
  return Array.isArray(value) ? 'a list' : 'a dictionary';
}

function malformed(what: string): NapError {
  return new NapError('PROTOCOL', `Malformed KRPC: ${what}.`);
}
