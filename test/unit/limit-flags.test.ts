/** The limit flags parse as documented and each lands on its own limit (no two swapped). */
import { describe, expect, it } from 'vitest';
import { fileServerFlags } from '../../peer/file-server-flags.ts';
import { indexLimitFlags } from '../../server/index-limit-flags.ts';
import { parseCountFlag, parseSizeFlag, parseTimeoutFlag } from '../../shared/limit-flags.ts';
import { errorCode } from '../helpers/error-code.ts';

describe('limit flag values', () => {
  it('parses counts, timeouts (seconds by default, 0 is never) and sizes', () => {
    expect(parseCountFlag('64', '--x')).toBe(64);
    expect(parseTimeoutFlag('30', '--x')).toBe(30_000);
    expect(parseTimeoutFlag('1.5', '--x')).toBe(1500);
    expect(parseTimeoutFlag('500ms', '--x')).toBe(500);
    expect(parseTimeoutFlag('10m', '--x')).toBe(600_000);
    expect(parseTimeoutFlag('1h', '--x')).toBe(3_600_000);
    expect(parseTimeoutFlag('0', '--x')).toBe(0);
    expect(parseSizeFlag('100KiB', '--x')).toBe(102_400);
    expect(parseSizeFlag('64MiB', '--x')).toBe(64 * 1024 * 1024);
  });

  it.each([
    ['a zero count', () => parseCountFlag('0', '--x')],
    ['a negative count', () => parseCountFlag('-1', '--x')],
    ['a fraction', () => parseCountFlag('1.5', '--x')],
    ['a count past 2^31 - 1', () => parseCountFlag('2147483648', '--x')],
    ['a timeout past what a timer holds (597 h)', () => parseTimeoutFlag('597h', '--x')],
    ['a timeout with an unknown unit', () => parseTimeoutFlag('2d', '--x')],
    ['a bare number of seconds past what a timer holds', () => parseTimeoutFlag('3000000', '--x')],
    ['a word for a size', () => parseSizeFlag('lots', '--x')],
  ])('refuses %s with BAD_ARGUMENT', (_what, parse) => {
    expect(errorCode(parse)).toBe('BAD_ARGUMENT');
  });
});

describe('index server flags', () => {
  it('maps each flag to its own limit, and leaves the others to the defaults', () => {
    expect(indexLimitFlags({})).toEqual({ limits: {} });
    expect(
      indexLimitFlags({
        'max-connections': '11',
        'max-connections-per-ip': '12',
        'idle-timeout': '13',
        'line-timeout': '14',
        'max-unread': '15',
        'max-pending-input': '16',
        'chat-rate': '17',
      }),
    ).toEqual({
      limits: {
        maxConnections: 11,
        maxConnectionsPerIp: 12,
        idleTimeoutMs: 13_000,
        lineTimeoutMs: 14_000,
        maxUnreadBytes: 15,
        maxPendingInputBytes: 16,
      },
      chatRatePerSecond: 17,
    });
  });
});

describe('file server flags', () => {
  it('maps each flag to its own limit; 0 turns a timeout off', () => {
    expect(fileServerFlags({})).toEqual({ limits: {} });
    expect(
      fileServerFlags({
        'max-uploads': '21',
        'max-uploads-per-ip': '22',
        'max-connections': '23',
        'max-connections-per-ip': '24',
        'request-timeout': '25',
        'stall-timeout': '0',
      }),
    ).toEqual({
      maxUploads: 21,
      limits: {
        maxUploadsPerIp: 22,
        maxConnections: 23,
        maxConnectionsPerIp: 24,
        requestTimeoutMs: 25_000,
        stallTimeoutMs: 2 ** 31 - 1,
      },
    });
  });
});
