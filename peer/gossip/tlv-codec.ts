/**
 * The gossip datagram, byte by byte (seed 004, section 1). Pure: no sockets, no clock.
 *
 *   datagram = Magic (1 byte = 104) | Version (1 byte = 1) | TLV*
 *   TLV      = Type (1 byte) | Length (1 byte, the TLV's TOTAL size, Type and Length included) | ...
 *
 * Known TLVs: Hello (type 1, length 2), Peer Request (type 2, length 2), Peer Address (type 3,
 * length 8: port, 2 bytes big-endian, then the IPv4 address, 4 bytes in dotted order).
 */
import { NapError } from '../../shared/errors.ts';

export const GOSSIP_MAGIC = 104;
export const GOSSIP_VERSION = 1;
export const HEADER_BYTES = 2;
/** Type and Length: the smallest possible TLV (seed 004, 1.2 "au moins deux octets"). */
export const TLV_MIN_BYTES = 2;

export const TLV_HELLO = 1;
export const TLV_PEER_REQUEST = 2;
export const TLV_PEER_ADDRESS = 3;

export const HELLO_BYTES = 2;
export const PEER_REQUEST_BYTES = 2;
export const PEER_ADDRESS_BYTES = 8;

/** Seed 004, 2.2 step 3: "un buffer d'au plus 1400 octets" — fits any Ethernet path MTU unfragmented. */
export const MAX_DATAGRAM_BYTES = 1400;
/** Peer Address TLVs that fit one datagram: (1400 - 2) / 8 = 174. */
export const MAX_ADDRESSES_PER_DATAGRAM = Math.floor(
  (MAX_DATAGRAM_BYTES - HEADER_BYTES) / PEER_ADDRESS_BYTES,
);

export interface PeerAddress {
  host: string;
  port: number;
}

export type GossipTlv =
  | { type: 'hello' }
  | { type: 'peer-request' }
  | ({ type: 'peer-address' } & PeerAddress)
  /** A known type whose Length is too short for its fields: framed correctly, so skipped. */
  | { type: 'short'; code: number; length: number }
  /** An unknown type: silently skipped by its Length (seed 004, 1.2). */
  | { type: 'unknown'; code: number; length: number };

export interface DecodedDatagram {
  tlvs: GossipTlv[];
  /**
   * Why parsing stopped before the end of the datagram, if it did: a Length below 2 or running past
   * the end. The TLVs before that point are kept (they were well framed).
   */
  stopped?: string;
}

/** Header + TLVs, exactly. Throws if the result would exceed MAX_DATAGRAM_BYTES. */
export function encodeDatagram(tlvs: readonly GossipTlv[]): Buffer {
  const size = HEADER_BYTES + tlvs.reduce((sum, tlv) => sum + encodedSize(tlv), 0);
  if (size > MAX_DATAGRAM_BYTES) {
    throw new NapError('PROTOCOL', `A gossip datagram of ${size} bytes exceeds ${MAX_DATAGRAM_BYTES} bytes.`);
  }
  const out = Buffer.alloc(size);
  out[0] = GOSSIP_MAGIC;
  out[1] = GOSSIP_VERSION;
  let at = HEADER_BYTES;
  for (const tlv of tlvs) at = writeTlv(out, at, tlv);
  return out;
}

/**
 * Peer Address TLVs for `peers`, as many datagrams as needed, each at most MAX_DATAGRAM_BYTES
 * (seed 004, 2.2 step 3). An empty list gives no datagram at all.
 */
export function encodePeerAddresses(peers: readonly PeerAddress[]): Buffer[] {
  const datagrams: Buffer[] = [];
  for (let start = 0; start < peers.length; start += MAX_ADDRESSES_PER_DATAGRAM) {
    const chunk = peers.slice(start, start + MAX_ADDRESSES_PER_DATAGRAM);
    datagrams.push(encodeDatagram(chunk.map((peer) => ({ type: 'peer-address', ...peer }))));
  }
  return datagrams;
}

/**
 * Reads one datagram. Throws (NapError PROTOCOL) only when the header is not Magic 104, Version 1:
 * the seed says such a datagram is ignored as a whole. Inside the body nothing throws: unknown
 * types and extra bytes are skipped by Length, and a Length below 2 or past the end stops parsing.
 */
export function decodeDatagram(data: Uint8Array): DecodedDatagram {
  if (data.length < HEADER_BYTES || data[0] !== GOSSIP_MAGIC || data[1] !== GOSSIP_VERSION) {
    const header = Buffer.from(data.subarray(0, HEADER_BYTES)).toString('hex') || 'nothing';
    throw new NapError('PROTOCOL', `Not a gossip datagram (header ${header}, expected 6801).`);
  }
  const tlvs: GossipTlv[] = [];
  let at = HEADER_BYTES;
  while (at < data.length) {
    if (data.length - at < TLV_MIN_BYTES) {
      return { tlvs, stopped: `a lone byte at offset ${at}` };
    }
    const code = data[at] as number;
    const length = data[at + 1] as number;
    if (length < TLV_MIN_BYTES) return { tlvs, stopped: `length ${length} < 2 at offset ${at}` };
    if (at + length > data.length) {
      return { tlvs, stopped: `length ${length} at offset ${at} runs past the end (${data.length} bytes)` };
    }
    tlvs.push(readTlv(data, at, code, length));
    at += length;
  }
  return { tlvs };
}

/** A dotted IPv4 address from 4 bytes in network order. */
export function ipv4FromBytes(data: Uint8Array, at: number): string {
  return `${data[at]}.${data[at + 1]}.${data[at + 2]}.${data[at + 3]}`;
}

function readTlv(data: Uint8Array, at: number, code: number, length: number): GossipTlv {
  switch (code) {
    case TLV_HELLO:
      return { type: 'hello' };
    case TLV_PEER_REQUEST:
      return { type: 'peer-request' };
    case TLV_PEER_ADDRESS: {
      if (length < PEER_ADDRESS_BYTES) return { type: 'short', code, length };
      const port = ((data[at + 2] as number) << 8) | (data[at + 3] as number);
      return { type: 'peer-address', port, host: ipv4FromBytes(data, at + 4) };
    }
    default:
      return { type: 'unknown', code, length };
  }
}

function encodedSize(tlv: GossipTlv): number {
  switch (tlv.type) {
    case 'hello':
      return HELLO_BYTES;
    case 'peer-request':
      return PEER_REQUEST_BYTES;
    case 'peer-address':
      return PEER_ADDRESS_BYTES;
    default:
      throw new NapError('PROTOCOL', `Cannot encode a TLV of type "${tlv.type}" (it is only ever decoded).`);
  }
}

function writeTlv(out: Buffer, at: number, tlv: GossipTlv): number {
  switch (tlv.type) {
    case 'hello':
      out[at] = TLV_HELLO;
      out[at + 1] = HELLO_BYTES;
      return at + HELLO_BYTES;
    case 'peer-request':
      out[at] = TLV_PEER_REQUEST;
      out[at + 1] = PEER_REQUEST_BYTES;
      return at + PEER_REQUEST_BYTES;
    case 'peer-address':
      out[at] = TLV_PEER_ADDRESS;
      out[at + 1] = PEER_ADDRESS_BYTES;
      out.writeUInt16BE(checkPort(tlv.port), at + 2);
      ipv4Bytes(tlv.host).forEach((byte, i) => {
        out[at + 4 + i] = byte;
      });
      return at + PEER_ADDRESS_BYTES;
    default:
      throw new NapError('PROTOCOL', `Cannot encode a TLV of type "${tlv.type}" (it is only ever decoded).`);
  }
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new NapError('PROTOCOL', `Port ${port} does not fit a Peer Address TLV.`);
  }
  return port;
}

function ipv4Bytes(host: string): number[] {
  const parts = host.split('.');
  const bytes = parts.map((part) => (/^\d{1,3}$/.test(part) ? Number(part) : Number.NaN));
  if (bytes.length !== 4 || bytes.some((byte) => !(byte >= 0 && byte <= 255))) {
    throw new NapError('PROTOCOL', `${JSON.stringify(host)} is not a dotted IPv4 address.`);
  }
  return bytes;
}
