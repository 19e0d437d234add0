/** Seed 002's messages in the index protocol: decoding, validation and golden bytes. */
import { describe, expect, it } from 'vitest';
import {
  aliasProblem,
  chatTextProblem,
  decodeIndexMessage,
  decodeIndexReply,
  decodeIndexRequest,
  MAX_CHAT_TEXT_BYTES,
  withAlias,
} from '../../shared/index-protocol.ts';
import { encodeLine } from '../../shared/json-line.ts';
import { errorCode } from '../helpers/error-code.ts';

const codeOf = errorCode;

describe('discovery requests', () => {
  it('JOIN takes an optional alias; without one it is the course JOIN, unchanged', () => {
    expect(
      decodeIndexRequest('{"type":"JOIN","ip":"127.0.0.1","port":8776,"files":["a"],"alias":"tina"}'),
    ).toEqual({ type: 'JOIN', ip: '127.0.0.1', port: 8776, files: ['a'], alias: 'tina' });
    const course = decodeIndexRequest('{"type":"JOIN","ip":"127.0.0.1","port":8776,"files":[]}');
    expect(course).toStrictEqual({ type: 'JOIN', ip: '127.0.0.1', port: 8776, files: [] });
    expect('alias' in course).toBe(false);
  });

  it('decodes ALIAS, LIST, QUERY, SET_FILES, CHAT, LEAVE and PING', () => {
    expect(decodeIndexRequest('{"type":"ALIAS","alias":"bob"}')).toEqual({ type: 'ALIAS', alias: 'bob' });
    expect(decodeIndexRequest('{"type":"LIST"}')).toEqual({ type: 'LIST' });
    expect(decodeIndexRequest('{"type":"QUERY","file":"a.mp4"}')).toEqual({ type: 'QUERY', file: 'a.mp4' });
    expect(decodeIndexRequest('{"type":"SET_FILES","files":["b","a","b"]}')).toEqual({
      type: 'SET_FILES',
      files: ['b', 'a'],
    });
    expect(decodeIndexRequest('{"type":"CHAT","text":"olá, 世界"}')).toEqual({
      type: 'CHAT',
      text: 'olá, 世界',
    });
    expect(decodeIndexRequest('{"type":"LEAVE"}')).toEqual({ type: 'LEAVE' });
    expect(decodeIndexRequest('{"type":"PING"}')).toEqual({ type: 'PING' });
  });

  it.each([
    ['an alias with a space', '{"type":"ALIAS","alias":"a b"}', 'BAD_REQUEST'],
    ['an alias with a colon (it would fake `alias: text`)', '{"type":"ALIAS","alias":"a:b"}', 'BAD_REQUEST'],
    ['an empty alias', '{"type":"ALIAS","alias":""}', 'BAD_REQUEST'],
    ['an alias of 33 characters', `{"type":"ALIAS","alias":"${'x'.repeat(33)}"}`, 'BAD_REQUEST'],
    [
      'an alias that is not a string',
      '{"type":"JOIN","ip":"127.0.0.1","port":1,"files":[],"alias":7}',
      'BAD_REQUEST',
    ],
    ['a chat text with a newline', '{"type":"CHAT","text":"a\\nbob: fake"}', 'BAD_REQUEST'],
    ['an empty chat text', '{"type":"CHAT","text":""}', 'BAD_REQUEST'],
    ['an unsafe name in SET_FILES', '{"type":"SET_FILES","files":["../x"]}', 'UNSAFE_NAME'],
    ['an unsafe name in QUERY', '{"type":"QUERY","file":"C:x"}', 'UNSAFE_NAME'],
    ['SET_FILES without a list', '{"type":"SET_FILES","files":"a"}', 'BAD_REQUEST'],
  ])('refuses %s', (_what, line, code) => {
    expect(codeOf(() => decodeIndexRequest(line))).toBe(code);
  });

  it('bounds aliases by characters and chat texts by UTF-8 bytes', () => {
    expect(aliasProblem('é'.repeat(32))).toBeNull();
    expect(aliasProblem('é'.repeat(33))).not.toBeNull();
    expect(aliasProblem('a\u0007')).not.toBeNull();
    expect(chatTextProblem('x'.repeat(MAX_CHAT_TEXT_BYTES))).toBeNull();
    expect(chatTextProblem('é'.repeat(MAX_CHAT_TEXT_BYTES / 2 + 1))).not.toBeNull();
  });
});

describe('discovery replies and pushed messages', () => {
  it('decodes every reply', () => {
    expect(decodeIndexReply('{"type":"ALIAS_OK","alias":"bob"}')).toEqual({ type: 'ALIAS_OK', alias: 'bob' });
    expect(
      decodeIndexReply(
        '{"type":"LIST_OK","peers":[{"address":"127.0.0.1:8776","fileCount":2,"alias":"tina"},{"address":"127.0.0.1:8777","fileCount":0}]}',
      ),
    ).toEqual({
      type: 'LIST_OK',
      peers: [
        { address: '127.0.0.1:8776', fileCount: 2, alias: 'tina' },
        { address: '127.0.0.1:8777', fileCount: 0 },
      ],
    });
    expect(
      decodeIndexReply(
        '{"type":"QUERY_OK","file":"a","peers":[{"address":"127.0.0.1:8776","alias":"tina"}]}',
      ),
    ).toEqual({ type: 'QUERY_OK', file: 'a', peers: [{ address: '127.0.0.1:8776', alias: 'tina' }] });
    expect(decodeIndexReply('{"type":"SET_FILES_OK","fileCount":3}')).toEqual({
      type: 'SET_FILES_OK',
      fileCount: 3,
    });
    expect(decodeIndexReply('{"type":"CHAT_OK","delivered":2}')).toEqual({ type: 'CHAT_OK', delivered: 2 });
    expect(decodeIndexReply('{"type":"LEAVE_OK"}')).toEqual({ type: 'LEAVE_OK' });
    expect(decodeIndexReply('{"type":"PONG","timeoutMs":45000}')).toEqual({ type: 'PONG', timeoutMs: 45000 });
    expect(decodeIndexReply('{"type":"PONG"}')).toEqual({ type: 'PONG' });
  });

  it('tells pushed messages from replies', () => {
    expect(decodeIndexMessage('{"type":"CHAT","alias":"tina","from":"127.0.0.1:8776","text":"hi"}')).toEqual({
      type: 'CHAT',
      alias: 'tina',
      from: '127.0.0.1:8776',
      text: 'hi',
    });
    expect(decodeIndexMessage('{"type":"PEER_LEFT","address":"127.0.0.1:8776","reason":"timeout"}')).toEqual({
      type: 'PEER_LEFT',
      address: '127.0.0.1:8776',
      reason: 'timeout',
    });
    expect(codeOf(() => decodeIndexReply('{"type":"CHAT","alias":"t","from":"x","text":"hi"}'))).toBe(
      'PROTOCOL',
    );
    expect(codeOf(() => decodeIndexMessage('{"type":"PEER_LEFT","address":"x","reason":"bored"}'))).toBe(
      'PROTOCOL',
    );
    expect(codeOf(() => decodeIndexMessage('{"type":"CHAT","alias":"t","from":"x","text":"a\\nb"}'))).toBe(
      'PROTOCOL',
    );
  });

  it('builds PEER_LEFT as the golden bytes of docs/protocol.md, alias last and only when there is one', () => {
    // Written out from the documented lines, never from napshare's encoder.
    expect(
      encodeLine(withAlias({ type: 'PEER_LEFT', address: '127.0.0.1:40002', reason: 'left' }, 'bobby')),
    ).toBe('{"type":"PEER_LEFT","address":"127.0.0.1:40002","reason":"left","alias":"bobby"}\n');
    expect(
      encodeLine(withAlias({ type: 'PEER_LEFT', address: '127.0.0.1:8776', reason: 'closed' }, undefined)),
    ).toBe('{"type":"PEER_LEFT","address":"127.0.0.1:8776","reason":"closed"}\n');
  });
});
