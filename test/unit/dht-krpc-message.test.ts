/**
 * The KRPC guard's codec: BEP 5's own example messages (bytes copied from the BEP) pass and come
 * back byte for byte; the four datagrams that used to stop the daemon, and every field of the
 * wrong type or length, are refused with a sentence saying what is wrong. Datagrams are built with
 * the `bencode` package, not with napshare's encoder.
 */
import bencode from 'bencode';
import { describe, expect, it } from 'vitest';
import { decodeKrpc, encodeKrpc, MAX_KRPC_BYTES } from '../../peer/dht/krpc-message.ts';
import { isNapError } from '../../shared/errors.ts';

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const ID = 'abcdefghij0123456789';
const HASH = 'mnopqrstuvwxyz123456';

/** A datagram from a plain object (strings become byte strings). */
const encode = (message: unknown) => Buffer.from(bencode.encode(message));
const query = (q: string, a: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  encode({ t: 'aa', y: 'q', q, a: { id: ID, ...a }, ...extra });
const answer = (r: Record<string, unknown>, t: unknown = 'aa') => encode({ t, y: 'r', r: { id: ID, ...r } });

function refusal(datagram: Buffer): string {
  try {
    decodeKrpc(datagram);
  } catch (error) {
    expect(isNapError(error, 'PROTOCOL')).toBe(true);
    return (error as Error).message;
  }
  throw new Error(`accepted ${datagram.toString('latin1')}`);
}

describe('KRPC: the examples of BEP 5 pass unchanged', () => {
  it.each([
    ['ping query', 'd1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe'],
    ['ping answer', 'd1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re'],
    [
      'find_node query',
      'd1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe',
    ],
    [
      'get_peers query',
      'd1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe',
    ],
    [
      'get_peers answer with peers',
      'd1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re',
    ],
    [
      'announce_peer query',
      'd1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe',
    ],
    ['error', 'd1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee'],
  ])('%s', (_name, text) => {
    const message = decodeKrpc(latin1(text));
    expect(encodeKrpc(message).toString('latin1')).toBe(text);
  });

  it('reads the fields of an announce_peer query', () => {
    const message = decodeKrpc(query('announce_peer', { info_hash: HASH, port: 6881, token: 'aoeusnth' }));
    expect(message).toEqual({
      y: 'q',
      t: latin1('aa'),
      q: 'announce_peer',
      a: { id: latin1(ID), info_hash: latin1(HASH), port: 6881, token: latin1('aoeusnth') },
    });
  });

  it('keeps only the fields the DHT library reads', () => {
    const message = decodeKrpc(
      query('get_peers', { info_hash: HASH, want: ['n4'], noseed: 1 }, { v: 'LT01', ip: 'abcdef' }),
    );
    expect(encodeKrpc(message)).toEqual(query('get_peers', { info_hash: HASH }));
  });

  it('passes a method it does not know with the sender id only', () => {
    const message = decodeKrpc(query('sample_infohashes', { target: HASH }));
    expect(encodeKrpc(message)).toEqual(query('sample_infohashes', {}));
  });
});

describe('KRPC: the datagrams that stopped the daemon are refused', () => {
  it.each([
    [
      'get_peers with an integer info_hash',
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAA9:info_hashi5ee1:q9:get_peers1:t2:aa1:y1:qe',
      'get_peers query: info_hash is the integer 5, not a 20-byte string',
    ],
    [
      'find_node with an integer target',
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAA6:targeti5ee1:q9:find_node1:t2:aa1:y1:qe',
      'find_node query: target is the integer 5, not a 20-byte string',
    ],
    [
      'get_peers with a list info_hash',
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAA9:info_hashli1eee1:q9:get_peers1:t2:aa1:y1:qe',
      'get_peers query: info_hash is a list, not a 20-byte string',
    ],
    [
      'BEP 44 get with an integer target',
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAA6:targeti5ee1:q3:get1:t2:aa1:y1:qe',
      'get query: target is the integer 5, not a 20-byte string',
    ],
  ])('%s', (_name, text, reason) => {
    expect(refusal(latin1(text))).toBe(`Malformed KRPC: ${reason}.`);
  });
});

describe('KRPC: every field checked', () => {
  const long = (bytes: number) => 'x'.repeat(bytes);
  it.each([
    ['not bencode', latin1('hello'), /Not bencode/],
    ['a list', encode(['t', 'y']), /a message that is a list, not a dictionary/],
    ['no y', encode({ t: 'aa' }), /the message: no y/],
    ['y=x', encode({ t: 'aa', y: 'x' }), /type y="x"/],
    ['a query without t', encode({ y: 'q', q: 'ping', a: { id: ID } }), /a query: no t/],
    [
      'a query t of 17 bytes',
      encode({ t: long(17), y: 'q', q: 'ping', a: { id: ID } }),
      /t is a 17-byte string/,
    ],
    [
      'a method of 33 bytes',
      encode({ t: 'aa', y: 'q', q: long(33), a: { id: ID } }),
      /q is a 33-byte string/,
    ],
    ['no a', encode({ t: 'aa', y: 'q', q: 'ping' }), /ping query: a \(the arguments\) is missing/],
    ['a 19-byte id', query('ping', { id: long(19) }), /ping query: id is a 19-byte string, not a 20-byte/],
    ['an integer id', query('ping', { id: 7 }), /id is the integer 7/],
    ['a 21-byte target', query('find_node', { target: long(21) }), /target is a 21-byte string/],
    ['announce without token', query('announce_peer', { info_hash: HASH, port: 1 }), /no token/],
    [
      'announce with a 65-byte token',
      query('announce_peer', { info_hash: HASH, port: 1, token: long(65) }),
      /token is a 65-byte string, not a string of 1 to 64 bytes/,
    ],
    [
      'announce with a list token',
      query('announce_peer', { info_hash: HASH, port: 1, token: ['a'] }),
      /token is a list/,
    ],
    [
      'announce with port 0',
      query('announce_peer', { info_hash: HASH, port: 0, token: 'tk' }),
      /port is the integer 0, not an integer from 1 to 65535/,
    ],
    [
      'announce with port 65536',
      query('announce_peer', { info_hash: HASH, port: 65536, token: 'tk' }),
      /port is the integer 65536/,
    ],
    [
      'announce with a string port',
      query('announce_peer', { info_hash: HASH, port: '6881', token: 'tk' }),
      /port is a 4-byte string/,
    ],
    [
      'announce with implied_port 2',
      query('announce_peer', { info_hash: HASH, port: 1, implied_port: 2, token: 'tk' }),
      /implied_port is the integer 2, not an integer from 0 to 1/,
    ],
    ['put without token', query('put', { v: 'hello' }), /put query: no token/],
    ['put without v', query('put', { token: 'tk' }), /put query: no value \(v\)/],
    [
      'put of 1001 bytes',
      query('put', { token: 'tk', v: long(997) }),
      /a value \(v\) of 1001 bytes \(at most 1000\)/,
    ],
    [
      'put with a __proto__ key',
      query('put', { token: 'tk', v: { ['__proto__']: { a: 1 } } }),
      /with a dictionary key __proto__/,
    ],
    [
      'mutable put with a 31-byte k',
      query('put', { token: 'tk', v: 'x', k: long(31) }),
      /k is a 31-byte string/,
    ],
    [
      'mutable put without sig',
      query('put', { token: 'tk', v: 'x', k: long(32), seq: 1 }),
      /put query: no sig/,
    ],
    [
      'mutable put without seq',
      query('put', { token: 'tk', v: 'x', k: long(32), sig: long(64) }),
      /put query: no seq/,
    ],
    [
      'mutable put with a negative seq',
      query('put', { token: 'tk', v: 'x', k: long(32), sig: long(64), seq: -1 }),
      /seq is the integer -1/,
    ],
    [
      'mutable put with a 65-byte salt',
      query('put', { token: 'tk', v: 'x', k: long(32), sig: long(64), seq: 1, salt: long(65) }),
      /salt is a 65-byte string/,
    ],
    ['an answer with a 1-byte t', answer({}, 'a'), /an answer: t is a 1-byte string, not a 2-byte string/],
    ['an answer without r', encode({ t: 'aa', y: 'r' }), /r \(the values\) is missing/],
    [
      'an answer with 27 bytes of nodes',
      answer({ nodes: long(27) }),
      /nodes has 27 bytes, not a multiple of 26/,
    ],
    ['an answer with integer nodes', answer({ nodes: 3 }), /nodes is the integer 3/],
    ['an answer with an empty token', answer({ token: '' }), /token is a 0-byte string/],
    [
      'an answer with values not a list',
      answer({ values: 'abcdef' }),
      /values is a 6-byte string, not a list/,
    ],
    ['an answer with a 7-byte peer', answer({ values: ['abcdefg'] }), /a peer in values is a 7-byte string/],
    ['an answer with a 31-byte k', answer({ k: long(31) }), /k is a 31-byte string/],
    [
      'an error whose e is a string',
      encode({ t: 'aa', y: 'e', e: 'oops' }),
      /e is a 4-byte string, not a list/,
    ],
    ['an error with a string code', encode({ t: 'aa', y: 'e', e: ['201', 'x'] }), /code is a 3-byte string/],
    [
      'an error with a list message',
      encode({ t: 'aa', y: 'e', e: [201, ['x']] }),
      /message is a list, not a string of 256 bytes at most/,
    ],
  ])('%s', (_name, datagram, reason) => {
    expect(refusal(datagram)).toMatch(reason);
  });

  it('accepts what the rules allow at their limits', () => {
    const accepted = [
      // bittorrent-dht announces an implied port as port 0 with implied_port 1.
      query('announce_peer', { info_hash: HASH, port: 0, implied_port: 1, token: long(64) }),
      query('announce_peer', { info_hash: HASH, implied_port: 1, token: 'tk' }),
      query('announce_peer', { info_hash: HASH, port: 65535, token: 'tk' }),
      encode({ t: long(16), y: 'q', q: 'ping', a: { id: ID } }),
      query('put', { token: 'tk', v: long(996) }),
      query('put', { token: 'tk', v: 'x', k: long(32), sig: long(64), seq: 0, cas: 3, salt: long(64) }),
      answer({ nodes: long(26 * 8), token: 'tk', values: [long(6), long(6)] }),
      answer({ v: 'x', k: long(32), sig: long(64), seq: 9 }),
      encode({ t: 'aa', y: 'e', e: [203] }),
    ];
    for (const datagram of accepted) expect(() => decodeKrpc(datagram)).not.toThrow();
  });

  it(`reads no datagram longer than ${MAX_KRPC_BYTES} bytes`, () => {
    const padding = long(MAX_KRPC_BYTES);
    expect(refusal(query('ping', {}, { v: padding }))).toMatch(/a datagram of 8\d{3} bytes \(at most 8192/);
  });
});
