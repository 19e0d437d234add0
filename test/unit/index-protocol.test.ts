import { describe, expect, it } from 'vitest';
import { decodeIndexReply, decodeIndexRequest } from '../../shared/index-protocol.ts';
import { encodeLine } from '../../shared/json-line.ts';
import { errorCode } from '../helpers/error-code.ts';

const codeOf = (line: string) => errorCode(() => decodeIndexRequest(line));

describe('index protocol codec', () => {
  it('decodes the requests of DESIGN.md', () => {
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

  it('encodes one JSON object per line, golden bytes', () => {
    expect(encodeLine({ type: 'SEARCH_OK', peers: ['127.0.0.1:8776'] })).toBe(
      '{"type":"SEARCH_OK","peers":["127.0.0.1:8776"]}\n',
    );
    expect(encodeLine({ type: 'JOIN_OK' })).toBe('{"type":"JOIN_OK"}\n');
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
