/** Seed 002's fields of the index protocol, read one by one: aliases, chat texts, list entries. */
import { describe, expect, it } from 'vitest';
import {
  aliasProblem,
  assertAlias,
  chatTextProblem,
  decodeHolder,
  decodeSummary,
  MAX_ALIAS_CHARS,
  MAX_CHAT_TEXT_BYTES,
  requireAlias,
  requireChatText,
  requireLeaveReason,
  requireObjects,
  withAlias,
} from '../../shared/discovery-fields.ts';
import { refusalOf } from '../helpers/error-code.ts';

const ALIAS_RULE = `an alias is 1 to ${MAX_ALIAS_CHARS} characters without spaces, ":", control or invisible format characters`;

describe('aliases', () => {
  it('are 1 to 32 code points without white space, ":" or control and format characters', () => {
    expect(MAX_ALIAS_CHARS).toBe(32);
    for (const good of ['a', 'tina', 'x'.repeat(32), '日本語', '🙂'.repeat(32), 'a-b_c.d'])
      expect(aliasProblem(good), good).toBeNull();
    for (const bad of [
      '',
      'a b',
      'a\tb',
      'a:b',
      'x'.repeat(33),
      'a\u0000',
      'a\u200b',
      'a\u00a0b',
      '\u202eevil',
    ])
      expect(aliasProblem(bad), JSON.stringify(bad)).toBe(ALIAS_RULE);
  });

  it('typed by a person: BAD_ARGUMENT with the alias quoted', () => {
    expect(assertAlias('tina')).toBe('tina');
    expect(refusalOf(() => assertAlias('a b'))).toBe(`BAD_ARGUMENT: Invalid alias "a b": ${ALIAS_RULE}.`);
  });

  it('sent by a peer: BAD_REQUEST naming the message and the field', () => {
    expect(requireAlias({ type: 'ALIAS', alias: 'bob' }, 'alias')).toBe('bob');
    expect(refusalOf(() => requireAlias({ type: 'ALIAS', alias: 'a:b' }, 'alias'))).toBe(
      'BAD_REQUEST: ALIAS: field "alias" must be 1 to 32 characters without spaces, ":" or controls.',
    );
  });
});

describe('chat texts', () => {
  it('are 1 to 4096 UTF-8 bytes without control characters, each problem in its own words', () => {
    expect(MAX_CHAT_TEXT_BYTES).toBe(4096);
    expect(chatTextProblem('olá, 世界')).toBeNull();
    expect(chatTextProblem('x'.repeat(4096))).toBeNull();
    expect(chatTextProblem('é'.repeat(2048))).toBeNull();
    expect(chatTextProblem('')).toBe('a chat message is not empty');
    expect(chatTextProblem('x'.repeat(4097))).toBe('a chat message is at most 4096 bytes');
    expect(chatTextProblem('é'.repeat(2049))).toBe('a chat message is at most 4096 bytes');
    for (const control of ['a\nb', 'a\rb', '\u0007', '\u001b[2J', '\u007f', '\u009b31m'])
      expect(chatTextProblem(control), JSON.stringify(control)).toBe(
        'a chat message is one line of text without control characters or line separators',
      );
  });

  it('in a CHAT request: BAD_REQUEST with the problem', () => {
    expect(requireChatText({ type: 'CHAT', text: 'oi' })).toBe('oi');
    expect(refusalOf(() => requireChatText({ type: 'CHAT', text: '' }))).toBe(
      'BAD_REQUEST: CHAT: a chat message is not empty.',
    );
  });
});

describe('departures and list entries', () => {
  it('a PEER_LEFT reason is left, closed or timeout', () => {
    for (const reason of ['left', 'closed', 'timeout'])
      expect(requireLeaveReason({ type: 'PEER_LEFT', reason })).toBe(reason);
    for (const reason of ['', 'bored', 'LEFT'])
      expect(refusalOf(() => requireLeaveReason({ type: 'PEER_LEFT', reason }))).toBe(
        'BAD_REQUEST: PEER_LEFT: field "reason" must be "left", "closed" or "timeout".',
      );
  });

  it('entries carry an alias key only when there is one', () => {
    const a = '127.0.0.1:8776';
    expect(decodeSummary({ address: a, fileCount: 2 })).toStrictEqual({ address: a, fileCount: 2 });
    expect(decodeSummary({ address: a, fileCount: 0, alias: 'x' })).toStrictEqual({
      address: a,
      fileCount: 0,
      alias: 'x',
    });
    expect(decodeHolder({ address: a })).toStrictEqual({ address: a });
    expect(decodeHolder({ address: a, alias: 'x' })).toStrictEqual({ address: a, alias: 'x' });
    expect(withAlias({ n: 1 }, undefined)).toStrictEqual({ n: 1 });
    expect(withAlias({ n: 1 }, 'x')).toStrictEqual({ n: 1, alias: 'x' });
    expect(refusalOf(() => decodeHolder({ address: a, alias: 'a b' }))).toMatch(/^BAD_REQUEST: /);
  });

  it('a list field is an array of objects, nothing else', () => {
    expect(requireObjects({ type: 'LIST_OK', peers: [] }, 'peers')).toEqual([]);
    expect(requireObjects({ type: 'LIST_OK', peers: [{ a: 1 }, {}] }, 'peers')).toEqual([{ a: 1 }, {}]);
    for (const peers of [undefined, 'x', {}, [1], ['x'], [null], [[]], [{}, null]])
      expect(
        refusalOf(() => requireObjects({ type: 'LIST_OK', peers }, 'peers')),
        JSON.stringify(peers),
      ).toBe('BAD_REQUEST: LIST_OK: field "peers" must be an array of objects.');
  });
});
