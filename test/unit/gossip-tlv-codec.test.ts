import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeDatagram,
  encodeDatagram,
  encodePeerAddresses,
  type GossipTlv,
  MAX_ADDRESSES_PER_DATAGRAM,
  MAX_DATAGRAM_BYTES,
} from '../../peer/gossip/tlv-codec.ts';
import { isNapError } from '../../shared/errors.ts';
import { refusalOf } from '../helpers/error-code.ts';

/** Hex without spaces, from a spaced string such as '68 01 01 02'. */
const hex = (spaced: string) => Buffer.from(spaced.replace(/\s+/g, ''), 'hex');

/**
 * An independent encoder written from the seed's byte diagrams (seed 004, 1.1-1.5), not from the
 * codec: header 104 1, Peer Address = 3 8 port-high port-low a b c d.
 */
function referencePeerAddress(ip: string, port: number): number[] {
  return [3, 8, port >> 8, port & 0xff, ...ip.split('.').map(Number)];
}

const addressArb = fc.record({
  host: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parts.join('.')),
  port: fc.integer({ min: 0, max: 65535 }),
});
const tlvArb: fc.Arbitrary<GossipTlv> = fc.oneof(
  fc.constant<GossipTlv>({ type: 'hello' }),
  fc.constant<GossipTlv>({ type: 'peer-request' }),
  addressArb.map((address): GossipTlv => ({ type: 'peer-address', ...address })),
);

describe('gossip TLV codec: golden bytes (seed 004)', () => {
  it('encodes a Hello as 68 01 | 01 02', () => {
    expect(encodeDatagram([{ type: 'hello' }])).toEqual(hex('68 01 01 02'));
  });

  it('encodes a Peer Request as 68 01 | 02 02', () => {
    expect(encodeDatagram([{ type: 'peer-request' }])).toEqual(hex('68 01 02 02'));
  });

  it('encodes a Peer Address as type 3, length 8, the port big-endian, then the IPv4 in dotted order', () => {
    expect(encodeDatagram([{ type: 'peer-address', host: '127.0.0.1', port: 4200 }])).toEqual(
      hex('68 01 03 08 10 68 7f 00 00 01'),
    );
    expect(encodeDatagram([{ type: 'peer-address', host: '192.168.1.20', port: 65535 }])).toEqual(
      hex('68 01 03 08 ff ff c0 a8 01 14'),
    );
  });

  it('puts several TLVs one after the other behind one header', () => {
    expect(encodeDatagram([{ type: 'hello' }, { type: 'peer-request' }])).toEqual(hex('68 01 01 02 02 02'));
  });

  it('matches an encoder written from the seed diagrams, for any address', () => {
    fc.assert(
      fc.property(fc.array(addressArb, { maxLength: 40 }), (peers) => {
        const expected = [104, 1, ...peers.flatMap((peer) => referencePeerAddress(peer.host, peer.port))];
        const datagrams = encodePeerAddresses(peers);
        expect(Buffer.concat(datagrams.map((d) => d.subarray(2)))).toEqual(Buffer.from(expected.slice(2)));
        if (peers.length > 0) expect(datagrams[0]?.subarray(0, 2)).toEqual(Buffer.from([104, 1]));
      }),
    );
  });

  it('splits a long peer list: 174 addresses (1394 bytes) per datagram, never more than 1400', () => {
    expect(MAX_ADDRESSES_PER_DATAGRAM).toBe(174);
    const peers = Array.from({ length: 349 }, (_, i) => ({
      host: `10.0.${i >> 8}.${i & 0xff}`,
      port: 1000 + i,
    }));
    const datagrams = encodePeerAddresses(peers);
    expect(datagrams.map((d) => d.length)).toEqual([1394, 1394, 10]);
    for (const datagram of datagrams) {
      expect(datagram.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
      expect(datagram.subarray(0, 2)).toEqual(hex('68 01'));
    }
    // The 175th address (index 174) opens the second datagram: 10.0.0.174 port 1174 = 0x0496.
    expect(datagrams[1]?.subarray(0, 10)).toEqual(hex('68 01 03 08 04 96 0a 00 00 ae'));
    // The last one alone in the third: 10.0.1.92 port 1348 = 0x0544.
    expect(datagrams[2]).toEqual(hex('68 01 03 08 05 44 0a 00 01 5c'));
    const decoded = datagrams.flatMap((d) => decodeDatagram(d).tlvs);
    expect(decoded).toEqual(peers.map((peer) => ({ type: 'peer-address', ...peer })));
  });

  it('sends no datagram for an empty peer list, and refuses to build one over 1400 bytes', () => {
    expect(encodePeerAddresses([])).toEqual([]);
    const tooMany = Array.from(
      { length: 175 },
      (): GossipTlv => ({ type: 'peer-address', host: '1.2.3.4', port: 1 }),
    );
    expect(() => encodeDatagram(tooMany)).toThrow(/exceeds 1400/);
  });

  it('refuses an address that does not fit the TLV', () => {
    expect(() => encodeDatagram([{ type: 'peer-address', host: 'localhost', port: 1 }])).toThrow(/IPv4/);
    expect(() => encodeDatagram([{ type: 'peer-address', host: '1.2.3.256', port: 1 }])).toThrow(/IPv4/);
    expect(() => encodeDatagram([{ type: 'peer-address', host: '1.2.3.4', port: 65536 }])).toThrow(/Port/);
  });
});

describe('gossip TLV codec: decoding by the seed rules', () => {
  it('reads each known TLV', () => {
    expect(decodeDatagram(hex('68 01 01 02 02 02 03 08 10 68 7f 00 00 01'))).toEqual({
      tlvs: [
        { type: 'hello' },
        { type: 'peer-request' },
        { type: 'peer-address', host: '127.0.0.1', port: 4200 },
      ],
    });
  });

  it('ignores a datagram whose header is not Magic 104, Version 1', () => {
    for (const bad of ['', '68', '69 01 01 02', '68 02 01 02', '00 00', '01 02']) {
      expect(() => decodeDatagram(hex(bad)), bad).toThrow(/Not a gossip datagram/);
    }
  });

  it('accepts a header with no TLV at all', () => {
    expect(decodeDatagram(hex('68 01'))).toEqual({ tlvs: [] });
  });

  it('skips an unknown type by its Length and goes on', () => {
    expect(decodeDatagram(hex('68 01 09 05 aa bb cc 01 02')).tlvs).toEqual([
      { type: 'unknown', code: 9, length: 5 },
      { type: 'hello' },
    ]);
    expect(decodeDatagram(hex('68 01 00 02 01 02')).tlvs).toEqual([
      { type: 'unknown', code: 0, length: 2 },
      { type: 'hello' },
    ]);
  });

  it('ignores the extra bytes of a known TLV (Length counts them)', () => {
    expect(decodeDatagram(hex('68 01 01 04 ff ff 03 0a 10 68 7f 00 00 01 ee ee 02 02')).tlvs).toEqual([
      { type: 'hello' },
      { type: 'peer-address', host: '127.0.0.1', port: 4200 },
      { type: 'peer-request' },
    ]);
  });

  it('skips a Peer Address too short to hold an address, by its Length', () => {
    expect(decodeDatagram(hex('68 01 03 04 10 68 01 02')).tlvs).toEqual([
      { type: 'short', code: 3, length: 4 },
      { type: 'hello' },
    ]);
  });

  it('stops at a Length below 2, keeping what came before', () => {
    for (const length of ['00', '01']) {
      const decoded = decodeDatagram(hex(`68 01 01 02 05 ${length} 01 02`));
      expect(decoded.tlvs).toEqual([{ type: 'hello' }]);
      expect(decoded.stopped).toMatch(/length \d < 2 at offset 4/);
    }
  });

  it('stops at a Length running past the end, and at a lone trailing byte', () => {
    const past = decodeDatagram(hex('68 01 02 02 03 08 10 68 7f 00 00'));
    expect(past.tlvs).toEqual([{ type: 'peer-request' }]);
    expect(past.stopped).toMatch(/runs past the end/);
    const lone = decodeDatagram(hex('68 01 01 02 01'));
    expect(lone.tlvs).toEqual([{ type: 'hello' }]);
    expect(lone.stopped).toMatch(/lone byte/);
  });
});

describe('gossip TLV codec: properties and fuzzing', () => {
  it('round-trips any list of TLVs that fits a datagram', () => {
    fc.assert(
      fc.property(fc.array(tlvArb, { maxLength: 174 }), (tlvs) => {
        expect(decodeDatagram(encodeDatagram(tlvs))).toEqual({ tlvs });
      }),
    );
  });

  it('never throws on random bytes, except a NapError PROTOCOL for a wrong header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), fc.boolean(), (bytes, withHeader) => {
        const data = withHeader ? Buffer.concat([hex('68 01'), bytes]) : Buffer.from(bytes);
        try {
          const { tlvs } = decodeDatagram(data);
          // Every TLV takes at least 2 bytes.
          expect(tlvs.length).toBeLessThanOrEqual((data.length - 2) / 2);
        } catch (error) {
          expect(withHeader).toBe(false);
          expect(isNapError(error, 'PROTOCOL')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes every truncation of a valid datagram to a prefix of its TLVs, without throwing', () => {
    fc.assert(
      fc.property(fc.array(tlvArb, { minLength: 1, maxLength: 30 }), fc.nat(), (tlvs, cut) => {
        const full = encodeDatagram(tlvs);
        const truncated = full.subarray(0, 2 + (cut % (full.length - 1)));
        const decoded = decodeDatagram(truncated);
        expect(tlvs.slice(0, decoded.tlvs.length)).toEqual(decoded.tlvs);
        expect(decoded.stopped === undefined).toBe(isBoundary(tlvs, truncated.length));
      }),
    );
  });
});

/** True when `length` falls exactly between two TLVs (so nothing was cut mid-TLV). */
function isBoundary(tlvs: GossipTlv[], length: number): boolean {
  let at = 2;
  for (const tlv of tlvs) {
    if (at === length) return true;
    at += tlv.type === 'peer-address' ? 8 : 2;
  }
  return at === length;
}

describe('gossip TLV codec: exact bounds and refusals', () => {
  const address = (host: string, port = 1): GossipTlv => ({ type: 'peer-address', host, port });

  it('builds a datagram of exactly 1400 bytes, and not one byte more', () => {
    const full = [
      ...Array.from({ length: 174 }, () => address('10.0.0.1')),
      ...Array(3).fill({ type: 'hello' }),
    ];
    expect(encodeDatagram(full)).toHaveLength(1400);
    expect(refusalOf(() => encodeDatagram([...full, { type: 'hello' }]))).toBe(
      'PROTOCOL: A gossip datagram of 1402 bytes exceeds 1400 bytes.',
    );
  });

  it('says which header it ignored', () => {
    expect(refusalOf(() => decodeDatagram(hex('')))).toBe(
      'PROTOCOL: Not a gossip datagram (header nothing, expected 6801).',
    );
    expect(refusalOf(() => decodeDatagram(hex('68')))).toBe(
      'PROTOCOL: Not a gossip datagram (header 68, expected 6801).',
    );
    expect(refusalOf(() => decodeDatagram(hex('68 02 01 02')))).toBe(
      'PROTOCOL: Not a gossip datagram (header 6802, expected 6801).',
    );
  });

  it('writes ports 0 to 65535 and refuses any other', () => {
    expect(encodeDatagram([address('1.2.3.4', 0)])).toEqual(hex('68 01 03 08 00 00 01 02 03 04'));
    for (const port of [-1, 1.5, 65536, Number.NaN])
      expect(
        refusalOf(() => encodeDatagram([address('1.2.3.4', port)])),
        String(port),
      ).toBe(`PROTOCOL: Port ${port} does not fit a Peer Address TLV.`);
  });

  it('writes only a plain dotted IPv4 address', () => {
    expect(encodeDatagram([address('0.0.0.0')])).toEqual(hex('68 01 03 08 00 01 00 00 00 00'));
    for (const host of [
      ' 1.2.3.4',
      '1.2.3.4 ',
      '1.2.3',
      '1.2.3.4.5',
      '1.2.3.0x1',
      '1.2.3.1234',
      '1.2.3.256',
      '-1.2.3.4',
      '',
    ])
      expect(
        refusalOf(() => encodeDatagram([address(host)])),
        host,
      ).toBe(`PROTOCOL: ${JSON.stringify(host)} is not a dotted IPv4 address.`);
  });

  it('never encodes what it only decodes (a short or unknown TLV)', () => {
    expect(refusalOf(() => encodeDatagram([{ type: 'unknown', code: 9, length: 5 }]))).toBe(
      'PROTOCOL: Cannot encode a TLV of type "unknown" (it is only ever decoded).',
    );
    expect(refusalOf(() => encodeDatagram([{ type: 'short', code: 3, length: 4 }]))).toBe(
      'PROTOCOL: Cannot encode a TLV of type "short" (it is only ever decoded).',
    );
  });
});
