/**
 * The `bencode` package (webtorrent's, 4.x), which ships no types: the tests use it as an
 * encoder independent of napshare's own (peer/dht/bencode.ts).
 */
declare module 'bencode' {
  const bencode: {
    /** Strings are written as UTF-8, objects as dictionaries with sorted keys. */
    encode(value: unknown): Uint8Array;
    decode(data: Uint8Array, encoding?: string): unknown;
  };
  export default bencode;
}
