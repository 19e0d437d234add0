import { describe, expect, it } from 'vitest';
import {
  decodeIndexMessage,
  decodeIndexReply,
  decodeIndexRequest,
  errorReply,
  joinRequest,
  MAX_INDEX_LINE_BYTES,
} from '../../shared/index-protocol.ts';
import { encodeLine } from '../../shared/json-line.ts';
import { errorCode, refusalOf } from '../helpers/error-code.ts';

const codeOf = (line: string) => errorCode(() => decodeIndexRequest(line));

describe('index protocol codec', () => {
  it('decodes the requests of docs/protocol.md', () => {
    expect(
      decodeIndexRequest('{"type":"JOIN","ip":"127.0.0.1","port":8776,"files":["a.mp4","b.mp4"]}'),
    ).toEqual({
      type: 'JOIN',
      ip: '127.0.0.1',
      port: 8776,
      files: ['a.mp4', 'b.mp4'],
    });
    expect(decodeIndexRequest('{"type":"SEARCH","file":"a.mp4"}')).toEqual({ type: 'SEARCH', file: 'a.mp4' });
    expect(decodeIndexRequest('{"type":"UPDATE","file":"c.mp4"}')).toEqual({ type: 'UPDATE', file: 'c.mp4' });
  });

  it('keeps the announced order and drops repeated names', () => {
    expect(
      decodeIndexRequest('{"type":"JOIN","ip":"10.0.0.2","port":1,"files":["z","a","z"]}'),
    ).toMatchObject({ files: ['z', 'a'] });
  });

  it('encodes the JOIN napshare sends as the golden bytes of docs/protocol.md', () => {
    // Written out from the byte-exact examples, never from napshare's encoder.
    expect(encodeLine(joinRequest('127.0.0.1', 8776, ['aula1.mp4', 'aula2.mp4']))).toBe(
      '{"type":"JOIN","ip":"127.0.0.1","port":8776,"files":["aula1.mp4","aula2.mp4"]}\n',
    );
    expect(encodeLine(joinRequest('127.0.0.1', 40001, ['aula1.mp4'], 'ana'))).toBe(
      '{"type":"JOIN","ip":"127.0.0.1","port":40001,"files":["aula1.mp4"],"alias":"ana"}\n',
    );
    expect(
      encodeLine(errorReply('SERVER_FULL', 'The index server is full (3 peers joined); try again later.')),
    ).toBe(
      '{"type":"ERROR","code":"SERVER_FULL","message":"The index server is full (3 peers joined); try again later."}\n',
    );
  });

  it.each([
    ['not json', 'BAD_REQUEST'],
    ['[1,2]', 'BAD_REQUEST'],
    ['null', 'BAD_REQUEST'],
    ['{"file":"a"}', 'BAD_REQUEST'],
    ['{"type":"HELLO"}', 'BAD_REQUEST'],
    ['{"type":7}', 'BAD_REQUEST'],
    ['{"type":"JOIN","ip":"localhost","port":1,"files":[]}', 'BAD_REQUEST'],
    ['{"type":"JOIN","ip":"127.0.0.1","port":"8776","files":[]}', 'BAD_REQUEST'],
    ['{"type":"JOIN","ip":"127.0.0.1","port":0,"files":[]}', 'BAD_ADDRESS'],
    ['{"type":"JOIN","ip":"127.0.0.1","port":70000,"files":[]}', 'BAD_REQUEST'],
    ['{"type":"JOIN","ip":"127.0.0.1","port":1.5,"files":[]}', 'BAD_REQUEST'],
    ['{"type":"JOIN","ip":"127.0.0.1","port":1,"files":"a.mp4"}', 'BAD_REQUEST'],
    ['{"type":"JOIN","ip":"127.0.0.1","port":1,"files":[1]}', 'BAD_REQUEST'],
    ['{"type":"JOIN","ip":"127.0.0.1","port":1,"files":["../x"]}', 'UNSAFE_NAME'],
    ['{"type":"SEARCH"}', 'BAD_REQUEST'],
    ['{"type":"SEARCH","file":["a"]}', 'BAD_REQUEST'],
    ['{"type":"SEARCH","file":"a/b"}', 'UNSAFE_NAME'],
    ['{"type":"UPDATE","file":"C:x"}', 'UNSAFE_NAME'],
  ])('refuses %s with %s', (line, code) => {
    expect(codeOf(line)).toBe(code);
  });

  it('decodes replies', () => {
    expect(decodeIndexReply('{"type":"SEARCH_OK","peers":[]}')).toEqual({ type: 'SEARCH_OK', peers: [] });
    expect(decodeIndexReply('{"type":"ERROR","code":"NOT_JOINED","message":"JOIN first"}')).toEqual({
      type: 'ERROR',
      code: 'NOT_JOINED',
      message: 'JOIN first',
    });
    expect(() => decodeIndexReply('{"type":"SEARCH_OK","peers":"x"}')).toThrow(/peers/);
  });
});

describe('index protocol codec: exact shapes and refusals', () => {
  it('reads lines of up to 1 MiB (docs/protocol.md)', () => {
    expect(MAX_INDEX_LINE_BYTES).toBe(1_048_576);
  });

  it.each([
    ['{"type":"HELLO"}', 'BAD_REQUEST: Unknown request type "HELLO".'],
    [
      '{"type":"JOIN","ip":"localhost","port":1,"files":[]}',
      'BAD_REQUEST: JOIN: field "ip" must be a dotted IPv4 address.',
    ],
    [
      '{"type":"JOIN","ip":"127.0.0.1","port":"1","files":[]}',
      'BAD_REQUEST: JOIN: field "port" must be an integer from 1 to 65535.',
    ],
  ])('refuses the request %s', (line, sentence) => {
    expect(refusalOf(() => decodeIndexRequest(line))).toBe(sentence);
  });

  it('decodes each reply to exactly its fields', () => {
    for (const type of ['JOIN_OK', 'UPDATE_OK', 'LEAVE_OK'])
      expect(decodeIndexReply(`{"type":"${type}","extra":1}`)).toStrictEqual({ type });
    expect(decodeIndexReply('{"type":"PONG"}')).toStrictEqual({ type: 'PONG' });
    expect(decodeIndexReply('{"type":"PONG","timeoutMs":0}')).toStrictEqual({ type: 'PONG', timeoutMs: 0 });
  });

  it('tells pushed messages apart, with their alias only when they have one', () => {
    expect(
      decodeIndexMessage('{"type":"PEER_LEFT","address":"127.0.0.1:1","reason":"left","alias":"x"}'),
    ).toStrictEqual({
      type: 'PEER_LEFT',
      address: '127.0.0.1:1',
      reason: 'left',
      alias: 'x',
    });
    expect(
      refusalOf(() => decodeIndexReply('{"type":"PEER_LEFT","address":"127.0.0.1:1","reason":"left"}')),
    ).toBe('PROTOCOL: Unexpected pushed PEER_LEFT where a reply was expected.');
    expect(
      refusalOf(() => decodeIndexReply('{"type":"CHAT","alias":"t","from":"127.0.0.1:1","text":"hi"}')),
    ).toBe('PROTOCOL: Unexpected pushed CHAT where a reply was expected.');
  });

  it('reports what a server sends wrong as PROTOCOL, in its own words', () => {
    expect(refusalOf(() => decodeIndexReply('{"type":"NOPE"}'))).toBe(
      'PROTOCOL: Unexpected reply type "NOPE" from the index server.',
    );
    expect(refusalOf(() => decodeIndexReply('{"type":"SEARCH_OK","peers":"x"}'))).toBe(
      'PROTOCOL: The index server sent a malformed message: SEARCH_OK: field "peers" must be an array of peer addresses IP:port.',
    );
    expect(refusalOf(() => decodeIndexMessage('{"type":"CHAT","alias":"a b","from":"x","text":"hi"}'))).toBe(
      'PROTOCOL: The index server sent a malformed message: CHAT: field "alias" must be 1 to 32 characters without spaces, ":" or controls.',
    );
  });

  it('builds JOIN with an alias key only when there is one', () => {
    expect(joinRequest('127.0.0.1', 1, [])).toStrictEqual({
      type: 'JOIN',
      ip: '127.0.0.1',
      port: 1,
      files: [],
    });
    expect(joinRequest('127.0.0.1', 1, ['a'], 'x')).toStrictEqual({
      type: 'JOIN',
      ip: '127.0.0.1',
      port: 1,
      files: ['a'],
      alias: 'x',
    });
    expect(errorReply('NOT_JOINED', 'JOIN first.')).toStrictEqual({
      type: 'ERROR',
      code: 'NOT_JOINED',
      message: 'JOIN first.',
    });
  });
});
