import { describe, expect, it } from 'vitest';
import { isIPv4, parseHostPort, parsePort } from '../../shared/address.ts';
import { parseByteSize } from '../../shared/units.ts';

describe('addresses', () => {
  it('dotted IPv4 only', () => {
    expect(isIPv4('127.0.0.1')).toBe(true);
    expect(isIPv4('255.255.255.255')).toBe(true);
    for (const bad of ['256.0.0.1', '1.2.3', '01.2.3.4', 'localhost', '::1', ' 1.2.3.4', 7])
      expect(isIPv4(bad)).toBe(false);
  });

  it('ports', () => {
    expect(parsePort('1099')).toBe(1099);
    expect(parsePort('0', true)).toBe(0);
    for (const bad of ['0', '65536', '-1', '1e3', 'abc', ''])
      expect(() => parsePort(bad)).toThrow(/Invalid port/);
  });

  it('host:port', () => {
    expect(parseHostPort('127.0.0.1:1099')).toEqual({ host: '127.0.0.1', port: 1099 });
    expect(parseHostPort('localhost:80')).toEqual({ host: '127.0.0.1', port: 80 });
    expect(() => parseHostPort('127.0.0.1')).toThrow(/IP:PORT/);
    expect(() => parseHostPort('example.com:80')).toThrow(/Invalid IP/);
  });
});

describe('byte sizes', () => {
  it('parses decimal and binary units', () => {
    expect(parseByteSize('50MB')).toBe(50_000_000);
    expect(parseByteSize('100 MB/s')).toBe(100_000_000);
    expect(parseByteSize('1GiB')).toBe(1024 ** 3);
    expect(parseByteSize('2k')).toBe(2000);
    expect(parseByteSize('1048576')).toBe(1048576);
    for (const bad of ['', 'fast', '-5MB', '0', '5XB'])
      expect(() => parseByteSize(bad)).toThrow(/Invalid size/);
  });
});
