/**
 * Bencode (BEP 3), strictly: the encoding of every KRPC datagram of the Mainline DHT. Pure: bytes
 * in, values out, and back. napshare decodes each datagram it receives here, before the DHT
 * library sees it (krpc-message.ts), so this decoder is the boundary and accepts only well-formed
 * input: the `bencode` package the library uses is lenient (a string shorter than its declared
 * length is cut silently, `i1.5e` is 1, a `__proto__` key sets an object's prototype), which is
 * fine for a codec but not for a guard.
 *
 *   integer  i<-?digits>e    no leading zeros, no "-0", a safe JavaScript integer
 *   string   <length>:bytes  length without leading zeros, exactly that many bytes
 *   list     l<value>*e
 *   dict     d(<string><value>)*e   keys unique (encoded sorted, as BEP 3 asks)
 */
import { NapError } from '../../shared/errors.ts';

/** A byte string is a Buffer; a dictionary maps its keys (bytes as latin1 text) to values. */
export type BencodeValue = Buffer | number | BencodeValue[] | BencodeDict;
export type BencodeDict = Map<string, BencodeValue>;

/**
 * Nesting accepted: a KRPC message is a dict of dicts of lists (depth 3); a BEP 44 value may nest
 * a little more. 16 is far past any real message and keeps decoding shallow whatever is sent.
 */
export const MAX_BENCODE_DEPTH = 16;

const INTEGER = 0x69; // i
const LIST = 0x6c; // l
const DICT = 0x64; // d
const END = 0x65; // e
const COLON = 0x3a; // :
const MINUS = 0x2d; // -
const ZERO = 0x30;
const NINE = 0x39;
/** Digits of the longest safe integer (2^53 - 1 has 16). */
const MAX_INTEGER_DIGITS = 16;

/** Decodes exactly one value filling all of `data`. Throws PROTOCOL, saying why, on anything else. */
export function decodeBencode(data: Uint8Array, maxDepth = MAX_BENCODE_DEPTH): BencodeValue {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const reader = { at: 0 };
  const value = readValue(bytes, reader, maxDepth);
  if (reader.at !== bytes.length) throw bad(`${bytes.length - reader.at} bytes after the value`);
  return value;
}

/** The canonical encoding of `value` (dict keys sorted by their bytes). */
export function encodeBencode(value: BencodeValue): Buffer {
  const parts: Buffer[] = [];
  writeValue(value, parts);
  return Buffer.concat(parts);
}

/** True for a dictionary (as opposed to a list, a string or an integer). */
export function isDict(value: BencodeValue | undefined): value is BencodeDict {
  return value instanceof Map;
}

function readValue(bytes: Buffer, reader: { at: number }, depthLeft: number): BencodeValue {
  const first = bytes[reader.at];
  if (first === undefined) throw bad('the data ends where a value was expected');
  if (first === INTEGER) {
    reader.at++;
    const value = readInteger(bytes, reader, END);
    reader.at++;
    return value;
  }
  if (first === LIST || first === DICT) {
    if (depthLeft <= 0) throw bad(`values nested deeper than ${MAX_BENCODE_DEPTH} levels`);
    reader.at++;
    return first === LIST ? readList(bytes, reader, depthLeft - 1) : readDict(bytes, reader, depthLeft - 1);
  }
  if (first >= ZERO && first <= NINE) return readString(bytes, reader);
  throw bad(`unexpected byte 0x${first.toString(16).padStart(2, '0')} at offset ${reader.at}`);
}

function readList(bytes: Buffer, reader: { at: number }, depthLeft: number): BencodeValue[] {
  const list: BencodeValue[] = [];
  while (bytes[reader.at] !== END) list.push(readValue(bytes, reader, depthLeft));
  reader.at++;
  return list;
}

function readDict(bytes: Buffer, reader: { at: number }, depthLeft: number): BencodeDict {
  const dict: BencodeDict = new Map();
  while (bytes[reader.at] !== END) {
    if (bytes[reader.at] === undefined) throw bad('a dictionary is not closed');
    const key = readString(bytes, reader).toString('latin1');
    if (dict.has(key)) throw bad(`the key ${JSON.stringify(key)} appears twice`);
    dict.set(key, readValue(bytes, reader, depthLeft));
  }
  reader.at++;
  return dict;
}

function readString(bytes: Buffer, reader: { at: number }): Buffer {
  const length = readInteger(bytes, reader, COLON);
  if (length < 0) throw bad('a negative string length');
  const start = reader.at + 1;
  if (start + length > bytes.length) throw bad(`a string of ${length} bytes runs past the end`);
  reader.at = start + length;
  return bytes.subarray(start, start + length);
}

/** Reads the digits from reader.at up to `terminator` (left at reader.at). */
function readInteger(bytes: Buffer, reader: { at: number }, terminator: number): number {
  const start = reader.at;
  // A sign, at most MAX_INTEGER_DIGITS digits, then the terminator: no need to look further.
  const window = bytes.subarray(start, start + MAX_INTEGER_DIGITS + 2).indexOf(terminator);
  if (window === -1) throw bad(`a malformed number at offset ${start}`);
  const end = start + window;
  const negative = bytes[start] === MINUS;
  const digits = bytes.subarray(negative ? start + 1 : start, end);
  if (digits.length === 0 || digits.length > MAX_INTEGER_DIGITS)
    throw bad(`a malformed number at offset ${start}`);
  for (const byte of digits)
    if (byte < ZERO || byte > NINE) throw bad(`a malformed number at offset ${start}`);
  // Canonical form (BEP 3): no leading zero, no "-0".
  if (digits[0] === ZERO && (digits.length > 1 || negative))
    throw bad(`a non-canonical number at offset ${start}`);
  const value = Number(digits.toString('latin1')) * (negative ? -1 : 1);
  if (!Number.isSafeInteger(value)) throw bad(`a number at offset ${start} is too large`);
  reader.at = end;
  return value;
}

function writeValue(value: BencodeValue, parts: Buffer[]): void {
  if (Buffer.isBuffer(value)) {
    parts.push(Buffer.from(`${value.length}:`, 'latin1'), value);
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw bad(`${value} is not an integer bencode can carry`);
    parts.push(Buffer.from(`i${value}e`, 'latin1'));
  } else if (Array.isArray(value)) {
    parts.push(Buffer.from('l', 'latin1'));
    for (const item of value) writeValue(item, parts);
    parts.push(Buffer.from('e', 'latin1'));
  } else {
    parts.push(Buffer.from('d', 'latin1'));
    // latin1 text compares character by character as its bytes do: the sort BEP 3 asks for.
    for (const key of [...value.keys()].sort()) {
      const keyBytes = Buffer.from(key, 'latin1');
      parts.push(Buffer.from(`${keyBytes.length}:`, 'latin1'), keyBytes);
      writeValue(value.get(key) as BencodeValue, parts);
    }
    parts.push(Buffer.from('e', 'latin1'));
  }
}

function bad(why: string): NapError {
  return new NapError('PROTOCOL', `Not bencode: ${why}.`);
}
