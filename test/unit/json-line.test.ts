/** The framing every TCP protocol shares: one JSON object per line, and its field readers. */
import { describe, expect, it } from 'vitest';
import {
  encodeLine,
  optionalCount,
  optionalString,
  parseMessage,
  requireCount,
  requireString,
  requireStringArray,
} from '../../shared/json-line.ts';
import { refusalOf } from '../helpers/error-code.ts';

/** The BAD_REQUEST sentence `run` throws. */
const badRequest = (run: () => unknown) => refusalOf(run).replace(/^BAD_REQUEST: /, '');

describe('JSON lines', () => {
  it('encodes one object as one line', () => {
    expect(encodeLine({ type: 'X', n: 1 })).toBe('{"type":"X","n":1}\n');
  });

  it('parses an object with a string type, extra fields kept', () => {
    expect(parseMessage('{"type":"JOIN","extra":[1]}')).toEqual({ type: 'JOIN', extra: [1] });
  });

  it.each([
    ['not json', 'The line is not valid JSON.'],
    ['{"type":"JOIN"', 'The line is not valid JSON.'],
    ['7', 'The line is not a JSON object.'],
    ['"JOIN"', 'The line is not a JSON object.'],
    ['true', 'The line is not a JSON object.'],
    ['null', 'The line is not a JSON object.'],
    ['[{"type":"JOIN"}]', 'The line is not a JSON object.'],
    ['{}', 'The message has no string "type" field.'],
    ['{"type":7}', 'The message has no string "type" field.'],
    ['{"type":null}', 'The message has no string "type" field.'],
  ])('refuses %s: %s', (line, message) => {
    expect(badRequest(() => parseMessage(line))).toBe(message);
  });
});

describe('field readers', () => {
  const message = {
    type: 'T',
    text: 'a',
    count: 3,
    zero: 0,
    negative: -1,
    fraction: 1.5,
    huge: 2 ** 53,
    names: ['a', 'b'],
    mixed: ['a', 1],
    numeric: '3',
  };

  it('read fields of the right type', () => {
    expect(requireString(message, 'text')).toBe('a');
    expect(optionalString(message, 'text')).toBe('a');
    expect(optionalString(message, 'absent')).toBeUndefined();
    expect(requireCount(message, 'count')).toBe(3);
    expect(requireCount(message, 'zero')).toBe(0);
    expect(requireCount({ type: 'T', n: 2 ** 53 - 1 }, 'n')).toBe(2 ** 53 - 1);
    expect(optionalCount(message, 'count')).toBe(3);
    expect(optionalCount(message, 'absent')).toBeUndefined();
    expect(requireStringArray(message, 'names')).toEqual(['a', 'b']);
    expect(requireStringArray({ type: 'T', none: [] }, 'none')).toEqual([]);
  });

  it.each([
    ['a string', () => requireString(message, 'count'), 'T: field "count" must be a string.'],
    ['an absent string', () => requireString(message, 'absent'), 'T: field "absent" must be a string.'],
    ['an optional string', () => optionalString(message, 'count'), 'T: field "count" must be a string.'],
    [
      'a count given as text',
      () => requireCount(message, 'numeric'),
      'T: field "numeric" must be a non-negative integer.',
    ],
    [
      'a negative count',
      () => requireCount(message, 'negative'),
      'T: field "negative" must be a non-negative integer.',
    ],
    [
      'a fraction',
      () => requireCount(message, 'fraction'),
      'T: field "fraction" must be a non-negative integer.',
    ],
    [
      'a count past 2^53',
      () => requireCount(message, 'huge'),
      'T: field "huge" must be a non-negative integer.',
    ],
    [
      'an optional count',
      () => optionalCount(message, 'text'),
      'T: field "text" must be a non-negative integer.',
    ],
    [
      'an array with a number',
      () => requireStringArray(message, 'mixed'),
      'T: field "mixed" must be an array of strings.',
    ],
    [
      'a string for an array',
      () => requireStringArray(message, 'text'),
      'T: field "text" must be an array of strings.',
    ],
  ])('refuse %s', (_what, run, sentence) => {
    expect(badRequest(run)).toBe(sentence);
  });
});
