/**
 * The index codec trusts no one: announced addresses a peer cannot be reached at are refused,
 * and whatever a server sends is parsed and formatted again or refused as its PROTOCOL error.
 */
import { describe, expect, it } from 'vitest';
import { aliasKey, aliasProblem, chatTextProblem } from '../../shared/discovery-fields.ts';
import { decodeIndexMessage, decodeIndexReply, decodeIndexRequest } from '../../shared/index-protocol.ts';
import { assertAnnouncedIp, canonicalPeerAddress, remoteIPv4 } from '../../shared/peer-address.ts';
import { errorCode } from '../helpers/error-code.ts';
import { ALL_FORBIDDEN, ESCAPE_SEQUENCES } from '../helpers/forbidden-text.ts';

const join = (ip: string, port: number) => JSON.stringify({ type: 'JOIN', ip, port, files: [] });

describe('announced addresses', () => {
  it.each([
    ['0.0.0.0', 8776, 'unspecified'],
    ['0.1.2.3', 8776, 'unspecified'],
    ['255.255.255.255', 8776, 'broadcast'],
    ['224.0.0.1', 8776, 'multicast'],
    ['239.255.42.99', 8776, 'multicast'],
    ['240.0.0.1', 8776, 'reserved'],
    ['127.0.0.1', 0, 'port 0'],
  ])('JOIN %s port %i is BAD_ADDRESS (%s)', (ip, port, why) => {
    expect(errorCode(() => decodeIndexRequest(join(ip, port)))).toBe('BAD_ADDRESS');
    expect(() => decodeIndexRequest(join(ip, port))).toThrow(why);
  });

  it('accepts unicast addresses, loopback and private ranges included', () => {
    for (const ip of ['127.0.0.1', '127.0.0.2', '10.0.0.7', '192.168.1.20', '8.8.8.8', '223.255.255.254'])
      expect(decodeIndexRequest(join(ip, 1))).toMatchObject({ ip, port: 1 });
  });

  it('reads the IPv4 address of a connection, IPv4-mapped IPv6 included', () => {
    expect(remoteIPv4('127.0.0.1')).toBe('127.0.0.1');
    expect(remoteIPv4('::ffff:192.168.1.20')).toBe('192.168.1.20');
    expect(remoteIPv4('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(remoteIPv4('::1')).toBeUndefined();
    expect(remoteIPv4('::ffff:300.0.0.1')).toBeUndefined();
    expect(remoteIPv4(undefined)).toBeUndefined();
  });

  it('the announced IP must be the connection own: ADDRESS_MISMATCH says what to type', () => {
    expect(() => assertAnnouncedIp('127.0.0.1', '127.0.0.1')).not.toThrow();
    expect(() => assertAnnouncedIp('192.168.1.20', '::ffff:192.168.1.20')).not.toThrow();
    expect(errorCode(() => assertAnnouncedIp('10.66.66.66', '127.0.0.1'))).toBe('ADDRESS_MISMATCH');
    expect(() => assertAnnouncedIp('192.168.1.20', '127.0.0.1')).toThrow(
      'The announced IP 192.168.1.20 is not the address this connection comes from; JOIN with IP 127.0.0.1.',
    );
    expect(errorCode(() => assertAnnouncedIp('127.0.0.1', '::1'))).toBe('ADDRESS_MISMATCH');
  });
});

describe('what a server sends', () => {
  const searchOk = (peers: unknown[]) => JSON.stringify({ type: 'SEARCH_OK', peers });

  it('SEARCH_OK peers are parsed and formatted again', () => {
    expect(decodeIndexReply(searchOk(['127.0.0.1:8776', '10.0.0.2:1']))).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:8776', '10.0.0.2:1'],
    });
  });

  it.each([
    ...ESCAPE_SEQUENCES.map((sequence) => `127.0.0.1:1${sequence}`),
    ...ALL_FORBIDDEN.map((char) => `127.0.0.1:1${char}`),
    '127.0.0.1:01',
    '127.0.0.01:1',
    ' 127.0.0.1:1',
    '127.0.0.1:1 ',
    '127.0.0.1:65536',
    '127.0.0.1:0',
    '0.0.0.0:1',
    '224.0.0.1:1',
    'localhost:1',
    '127.0.0.1',
    '[::1]:1',
    7,
  ])('a SEARCH_OK peer %j is a PROTOCOL error, never printed', (peer) => {
    expect(errorCode(() => decodeIndexReply(searchOk(['127.0.0.1:8776', peer])))).toBe('PROTOCOL');
    expect(canonicalPeerAddress(peer)).toBeUndefined();
  });

  it('LIST, QUERY, CHAT and PEER_LEFT addresses and QUERY names are checked the same way', () => {
    const bad = '127.0.0.1:1\u001b[2J';
    for (const line of [
      { type: 'LIST_OK', peers: [{ address: bad, fileCount: 0 }] },
      { type: 'QUERY_OK', file: 'a.mp4', peers: [{ address: bad }] },
      { type: 'QUERY_OK', file: 'a\u202e4pm.exe', peers: [] },
      { type: 'CHAT', alias: 'ana', from: bad, text: 'hi' },
      { type: 'PEER_LEFT', address: bad, reason: 'left' },
      { type: 'CHAT', alias: 'a\u200bna', from: '127.0.0.1:1', text: 'hi' },
      { type: 'CHAT', alias: 'ana', from: '127.0.0.1:1', text: 'hi\u2028mallory: fake' },
    ])
      expect(errorCode(() => decodeIndexMessage(JSON.stringify(line)))).toBe('PROTOCOL');
  });

  it('ERROR codes are codes; messages are bounded free text (printed escaped)', () => {
    const error = (code: string, message: string) => JSON.stringify({ type: 'ERROR', code, message });
    expect(decodeIndexReply(error('NOT_JOINED', 'x\u001b[2J'))).toEqual({
      type: 'ERROR',
      code: 'NOT_JOINED',
      message: 'x\u001b[2J',
    });
    expect(errorCode(() => decodeIndexReply(error('not_joined', 'x')))).toBe('PROTOCOL');
    expect(errorCode(() => decodeIndexReply(error('A\u001b', 'x')))).toBe('PROTOCOL');
    expect(errorCode(() => decodeIndexReply(error('BAD', 'x'.repeat(2049))))).toBe('PROTOCOL');
    expect(decodeIndexReply(error('BAD', 'x'.repeat(2048)))).toMatchObject({ code: 'BAD' });
  });

  it('a line that is not valid UTF-8 is a PROTOCOL error; PROBE is a pushed message', () => {
    expect(errorCode(() => decodeIndexMessage('{"type":"SEARCH_OK","peers":["\udcff"]}'))).toBe('PROTOCOL');
    expect(decodeIndexMessage('{"type":"PROBE"}')).toEqual({ type: 'PROBE' });
  });
});

describe('aliases and chat text', () => {
  it('an alias holds nothing that could change a terminal', () => {
    for (const char of ALL_FORBIDDEN) expect(aliasProblem(`an${char}a`)).not.toBeNull();
    expect(aliasProblem('ana')).toBeNull();
    expect(aliasProblem('José')).toBeNull();
    expect(aliasProblem('李')).toBeNull();
  });

  it('aliases compare after NFKC and case folding', () => {
    expect(aliasKey('Ana')).toBe(aliasKey('ANA'));
    expect(aliasKey('ana')).toBe(aliasKey('\uff41\uff4e\uff41')); // full-width ａｎａ
    expect(aliasKey('stra\u00dfe')).toBe(aliasKey('STRASSE'));
    expect(aliasKey('\u03c3\u03bf\u03c6\u03bf\u03c2')).toBe(aliasKey('\u03a3\u039f\u03a6\u039f\u03a3'));
    expect(aliasKey('Jos\u00e9')).toBe(aliasKey('Jose\u0301')); // composed and decomposed é
    expect(aliasKey('ana')).not.toBe(aliasKey('anna'));
  });

  it('a chat text is one line; format characters pass (every console escapes them)', () => {
    for (const char of ['\n', '\r', '\u001b', '\u0085', '\u009b', '\u2028', '\u2029', '\ud800'])
      expect(chatTextProblem(`hi${char}there`)).not.toBeNull();
    expect(chatTextProblem('hi \u202eereht')).toBeNull();
    expect(chatTextProblem('👨\u200d👩\u200d👧')).toBeNull();
  });
});
