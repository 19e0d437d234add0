/** `--store redis://HOST:PORT[/DB]` and `--server A,B`: what is taken, what is refused. */
import { describe, expect, it } from 'vitest';
import { formatStoreUrl, parseStoreUrl } from '../../server/store/store-url.ts';
import { parseHostPortList, serverOptions } from '../../shared/address.ts';
import { errorCode } from '../helpers/error-code.ts';

describe('--store', () => {
  it('takes redis://HOST[:PORT][/DB]', () => {
    expect(parseStoreUrl('redis://127.0.0.1:6380/3')).toEqual({ host: '127.0.0.1', port: 6380, db: 3 });
    expect(parseStoreUrl('redis://127.0.0.1')).toEqual({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(parseStoreUrl('redis://cache.example:7000/')).toEqual({
      host: 'cache.example',
      port: 7000,
      db: 0,
    });
    expect(parseStoreUrl('redis://[::1]:6379/1')).toEqual({ host: '::1', port: 6379, db: 1 });
    expect(formatStoreUrl({ host: '::1', port: 6379, db: 1 })).toBe('redis://[::1]:6379/1');
  });

  it.each([
    'http://127.0.0.1:6379',
    'rediss://127.0.0.1:6379',
    'redis://user:secret@127.0.0.1:6379',
    'redis://127.0.0.1:6379/16',
    'redis://127.0.0.1:6379/a',
    'redis://127.0.0.1:6379/0?x=1',
    'redis://127.0.0.1:99999',
    '127.0.0.1:6379',
    '',
  ])('refuses %j with BAD_ARGUMENT', (text) => {
    expect(errorCode(() => parseStoreUrl(text))).toBe('BAD_ARGUMENT');
  });
});

describe('--server A,B', () => {
  it('keeps the order: the first, then the ones to fail over to', () => {
    expect(parseHostPortList('127.0.0.1:1099')).toEqual([{ host: '127.0.0.1', port: 1099 }]);
    expect(serverOptions('127.0.0.1:1099, 127.0.0.2:1100')).toEqual({
      server: { host: '127.0.0.1', port: 1099 },
      fallbacks: [{ host: '127.0.0.2', port: 1100 }],
    });
  });

  it.each([
    '',
    '127.0.0.1:1099,',
    ',127.0.0.1:1099',
    '127.0.0.1:1099,,127.0.0.1:1100',
    '127.0.0.1:1099,nohost',
  ])('refuses %j with BAD_ARGUMENT', (text) => {
    expect(errorCode(() => parseHostPortList(text))).toBe('BAD_ARGUMENT');
  });
});
