import { describe, expect, it } from 'vitest';
import { assertSafeFileName, isSafeFileName, unsafeNameReason } from '../../shared/file-names.ts';

describe('file-name safety', () => {
  it.each([
    'aula1.mp4',
    'Aula 2 - Redes.mkv',
    'ação.mp4',
    '日本語.txt',
    '.hidden',
    'a.b.c',
    'x'.repeat(255),
    // Device names only as the whole name (before any extension): these merely contain one.
    'icon.png',
    'falcon.mp4',
    'console.txt',
    'nullable.ts',
    'com10.txt',
    'lpt.txt',
  ])('accepts %j', (name) => {
    expect(isSafeFileName(name)).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['../etc/passwd', 'separator'],
    ['a/b', 'separator'],
    ['a\\b', 'separator'],
    ['..', '".."'],
    ['a..b', '".."'],
    ['.', '"."'],
    ['C:evil', ':'],
    ['c:\\temp\\x', 'separator'],
    ['file.txt:stream', ':'],
    ['nul\u0000.mp4', 'control'],
    ['line\nbreak', 'control'],
    ['CON', 'reserved'],
    ['com1.txt', 'reserved'],
    ['LPT1', 'reserved'],
    ['lpt9.tar.gz', 'reserved'],
    ['Aux.h', 'reserved'],
    ['trailing.', 'ends with'],
    ['trailing ', 'ends with'],
    ['x'.repeat(256), 'longer'],
    ['é'.repeat(128), 'longer'],
  ])('refuses %j (%s)', (name, why) => {
    expect(isSafeFileName(name)).toBe(false);
    expect(unsafeNameReason(name)).toContain(why);
    expect(() => assertSafeFileName(name)).toThrow(/Unsafe file name/);
  });

  it('refuses non-strings', () => {
    expect(isSafeFileName(42)).toBe(false);
    expect(isSafeFileName(null)).toBe(false);
  });
});
