import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assertReachable, libraryBootstrap, parseBootstrap } from '../../peer/dht/bootstrap.ts';
import { formatDuration, parseDuration } from '../../peer/dht/durations.ts';
import { announcedTexts, dhtKey, dhtKeyHex, searchedTexts } from '../../peer/dht/keys.ts';

describe('DHT keys (seed 000, 13: SHA-1 of the name)', () => {
  it('is the SHA-1 of the UTF-8 name, 20 bytes like a BitTorrent info-hash', () => {
    // Golden values: `printf hello.txt | sha1sum`, `printf redes | sha1sum`.
    expect(dhtKeyHex('hello.txt')).toBe('3857b672471862eab426eba0622e44bd2cedbd5d');
    expect(dhtKeyHex('redes')).toBe('dad09ff8f0fdf3f11e1e26dd72fa395dea59b414');
    expect(dhtKey('hello.txt')).toHaveLength(20);
    // UTF-8, not UTF-16 or Latin-1: "é" is two bytes.
    expect(dhtKeyHex('é')).toBe(
      createHash('sha1')
        .update(Buffer.from([0xc3, 0xa9]))
        .digest('hex'),
    );
  });

  it('announces the exact name and each lower-case word once', () => {
    expect(announcedTexts('Aula_1 Redes.mp4')).toEqual(['Aula_1 Redes.mp4', 'aula', '1', 'redes', 'mp4']);
    expect(announcedTexts('readme')).toEqual(['readme']);
  });

  it('searches the keyword as typed and in lower case', () => {
    expect(searchedTexts('Redes')).toEqual(['Redes', 'redes']);
    expect(searchedTexts('redes')).toEqual(['redes']);
  });
});

describe('--bootstrap', () => {
  it('never leaves the library option undefined', () => {
    expect(libraryBootstrap(parseBootstrap('none'))).toBe(false);
    expect(libraryBootstrap(parseBootstrap('NONE'))).toBe(false);
    expect(libraryBootstrap(parseBootstrap('public'))).toBe(true);
    expect(libraryBootstrap(parseBootstrap('127.0.0.1:6881, 10.0.0.2:7000'))).toEqual([
      '127.0.0.1:6881',
      '10.0.0.2:7000',
    ]);
    expect(libraryBootstrap(parseBootstrap('localhost:6881'))).toEqual(['127.0.0.1:6881']);
  });

  it('refuses what is not an address list', () => {
    for (const bad of ['', 'router.bittorrent.com:6881', '127.0.0.1', '127.0.0.1:0', '1.2.3.4:5,,']) {
      expect(() => parseBootstrap(bad), bad).toThrow();
    }
  });

  it('refuses nodes a loopback-bound node cannot reach, and only those', () => {
    expect(() => assertReachable(parseBootstrap('10.0.0.2:6881'), '127.0.0.1')).toThrow(
      "--bootstrap 10.0.0.2:6881 is not on this machine, but the DHT node binds 127.0.0.1: give --host 0.0.0.0 (or this machine's address on that network) to join it.",
    );
    expect(() => assertReachable(parseBootstrap('127.0.0.1:1, 192.168.1.9:2'), '127.0.0.1')).toThrow(
      /--bootstrap 192\.168\.1\.9:2 is not on this machine/,
    );
    expect(() => assertReachable(parseBootstrap('public'), '127.0.0.1')).toThrow(
      /--bootstrap public \(the public DHT routers\) is not on this machine/,
    );
    expect(() => assertReachable(parseBootstrap('127.0.0.2:6881,127.0.0.1:7000'), '127.0.0.1')).not.toThrow();
    expect(() => assertReachable(parseBootstrap('none'), '127.0.0.1')).not.toThrow();
    expect(() => assertReachable(parseBootstrap('10.0.0.2:6881'), '0.0.0.0')).not.toThrow();
    expect(() => assertReachable(parseBootstrap('public'), '192.168.1.20')).not.toThrow();
  });
});

describe('durations', () => {
  it('parses units, a bare number is seconds', () => {
    expect(parseDuration('500ms', '--x')).toBe(500);
    expect(parseDuration('30s', '--x')).toBe(30_000);
    expect(parseDuration('10m', '--x')).toBe(600_000);
    expect(parseDuration('2h', '--x')).toBe(7_200_000);
    expect(parseDuration('1.5', '--x')).toBe(1500);
    for (const bad of ['', '0', '-1s', '10 minutes', 'soon']) {
      expect(() => parseDuration(bad, '--x')).toThrow(/--x needs a positive duration/);
    }
  });

  it('formats the way people read them', () => {
    expect(formatDuration(40 * 60_000)).toBe('40 min');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(300)).toBe('300 ms');
    expect(formatDuration(2 * 3_600_000)).toBe('2 h');
  });
});
