/** The `caps` fields of JOIN, SEARCH_OK and QUERY_OK (docs/protocol.md, "Capabilities"). */
import { describe, expect, it } from 'vitest';
import { Registry } from '../../server/registry.ts';
import { hasCap, MAX_CAPS } from '../../shared/capabilities.ts';
import { decodeIndexReply, decodeIndexRequest, joinRequest } from '../../shared/index-protocol.ts';
import { encodeLine } from '../../shared/json-line.ts';
import { errorCode } from '../helpers/error-code.ts';

const A = '127.0.0.1:8776';
const B = '127.0.0.1:9000';

describe('JOIN caps', () => {
  it('encodes the JOIN napshare peers send, golden bytes', () => {
    expect(encodeLine(joinRequest('127.0.0.1', 8776, ['a.mp4'], undefined, ['INFO']))).toBe(
      '{"type":"JOIN","ip":"127.0.0.1","port":8776,"files":["a.mp4"],"caps":["INFO"]}\n',
    );
    // No capabilities: the course's JOIN, byte for byte.
    expect(encodeLine(joinRequest('127.0.0.1', 8776, ['a.mp4'], undefined, []))).toBe(
      '{"type":"JOIN","ip":"127.0.0.1","port":8776,"files":["a.mp4"]}\n',
    );
  });

  it('keeps known tokens once, drops unknown ones, and a JOIN without caps has none', () => {
    expect(
      decodeIndexRequest('{"type":"JOIN","ip":"127.0.0.1","port":1,"files":[],"caps":["X2","INFO","INFO"]}'),
    ).toEqual({ type: 'JOIN', ip: '127.0.0.1', port: 1, files: [], caps: ['INFO'] });
    expect(
      decodeIndexRequest('{"type":"JOIN","ip":"127.0.0.1","port":1,"files":[],"caps":["LATER"]}'),
    ).toEqual({ type: 'JOIN', ip: '127.0.0.1', port: 1, files: [] });
    expect(decodeIndexRequest('{"type":"JOIN","ip":"127.0.0.1","port":1,"files":[]}')).not.toHaveProperty(
      'caps',
    );
  });

  it.each([
    ['not an array', '"INFO"'],
    ['a number in the list', '[1]'],
    ['a lower-case token', '["info"]'],
    ['a token of 17 characters', '["ABCDEFGHIJKLMNOPQ"]'],
    ['a control character', '["INFO\\u001b"]'],
    [`more than ${MAX_CAPS} tokens`, JSON.stringify(Array.from({ length: MAX_CAPS + 1 }, () => 'INFO'))],
  ])('refuses caps that are %s', (_what, caps) => {
    expect(
      errorCode(() =>
        decodeIndexRequest(`{"type":"JOIN","ip":"127.0.0.1","port":1,"files":[],"caps":${caps}}`),
      ),
    ).toBe('BAD_REQUEST');
  });

  it(`accepts exactly ${MAX_CAPS} tokens`, () => {
    const caps = JSON.stringify(Array.from({ length: MAX_CAPS }, (_, i) => (i === 0 ? 'INFO' : `T${i}`)));
    expect(
      decodeIndexRequest(`{"type":"JOIN","ip":"127.0.0.1","port":1,"files":[],"caps":${caps}}`),
    ).toMatchObject({ caps: ['INFO'] });
  });
});

describe('SEARCH_OK and QUERY_OK caps', () => {
  it('decodes the holders that announced capabilities; the others announced none', () => {
    const reply = decodeIndexReply(`{"type":"SEARCH_OK","peers":["${A}","${B}"],"caps":{"${A}":["INFO"]}}`);
    expect(reply).toEqual({ type: 'SEARCH_OK', peers: [A, B], caps: { [A]: ['INFO'] } });
    const caps = reply.type === 'SEARCH_OK' ? reply.caps : undefined;
    expect(hasCap(caps, A, 'INFO')).toBe(true);
    expect(hasCap(caps, B, 'INFO')).toBe(false);
    expect(hasCap(undefined, A, 'INFO')).toBe(false);
    // A reply without the field is the course's: nobody announced anything.
    expect(decodeIndexReply(`{"type":"SEARCH_OK","peers":["${A}"]}`)).toEqual({
      type: 'SEARCH_OK',
      peers: [A],
    });
    // Unknown tokens are dropped, and a holder left with none is as if absent.
    expect(decodeIndexReply(`{"type":"SEARCH_OK","peers":["${A}"],"caps":{"${A}":["LATER"]}}`)).toEqual({
      type: 'SEARCH_OK',
      peers: [A],
    });
    expect(
      decodeIndexReply(
        `{"type":"QUERY_OK","file":"a","peers":[{"address":"${A}","alias":"ana"}],"caps":{"${A}":["INFO"]}}`,
      ),
    ).toEqual({
      type: 'QUERY_OK',
      file: 'a',
      peers: [{ address: A, alias: 'ana' }],
      caps: { [A]: ['INFO'] },
    });
  });

  it.each([
    ['an address not listed in peers', `{"type":"SEARCH_OK","peers":["${A}"],"caps":{"${B}":["INFO"]}}`],
    ['a key "__proto__"', `{"type":"SEARCH_OK","peers":["${A}"],"caps":{"__proto__":["INFO"]}}`],
    ['an array instead of an object', `{"type":"SEARCH_OK","peers":["${A}"],"caps":[["INFO"]]}`],
    ['null', `{"type":"SEARCH_OK","peers":["${A}"],"caps":null}`],
    ['a token list that is a string', `{"type":"SEARCH_OK","peers":["${A}"],"caps":{"${A}":"INFO"}}`],
    [
      'too many tokens for a holder',
      `{"type":"SEARCH_OK","peers":["${A}"],"caps":{"${A}":${JSON.stringify(Array(MAX_CAPS + 1).fill('INFO'))}}}`,
    ],
    [
      'a QUERY_OK key that is not a holder',
      `{"type":"QUERY_OK","file":"a","peers":[{"address":"${A}"}],"caps":{"${B}":["INFO"]}}`,
    ],
  ])('a reply whose caps has %s is a protocol error of the server', (_what, line) => {
    expect(errorCode(() => decodeIndexReply(line))).toBe('PROTOCOL');
  });
});

describe('Registry caps', () => {
  it('SEARCH gives the capabilities of the holders that announced some, and a re-JOIN replaces them', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['a'], undefined, ['INFO']);
    await registry.join(2, '127.0.0.1', 9000, ['a']);
    expect(await registry.search(2, 'a')).toMatchObject({ peers: [A, B], caps: { [A]: ['INFO'] } });
    expect(await registry.holderCaps([A, B])).toEqual({ [A]: ['INFO'] });
    // The same connection joins again without capabilities (a course peer now): none any more.
    await registry.join(1, '127.0.0.1', 8776, ['a']);
    expect((await registry.search(2, 'a')).caps).toEqual({});
  });
});
