import { describe, expect, it } from 'vitest';
import { assertSafeFileName, isSafeFileName, unsafeNameReason } from '../../shared/file-names.ts';
import { consoleProblem, FORBIDDEN_CHARACTERS } from '../helpers/forbidden-text.ts';

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

  it.each(Object.entries(FORBIDDEN_CHARACTERS))('refuses a name holding any of the %s', (_kind, chars) => {
    for (const char of chars) {
      expect(isSafeFileName(`aula${char}1.mp4`)).toBe(false);
      // The refusal quotes the name escaped: the message itself is safe to print anywhere.
      let message = '';
      try {
        assertSafeFileName(`aula${char}1.mp4`);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^Unsafe file name "aula\\.+1\.mp4": the name contains /);
      expect(consoleProblem(Buffer.from(message))).toBeNull();
    }
  });

  it('says which character and of what kind', () => {
    expect(unsafeNameReason('evil\u202Egnp.exe')).toBe('the name contains a bidirectional control (U+202E)');
    expect(unsafeNameReason('a\u2028b')).toBe('the name contains a line or paragraph separator (U+2028)');
    expect(unsafeNameReason('a\u200Bb')).toBe('the name contains an invisible format character (U+200B)');
    expect(unsafeNameReason('a\u009Bb')).toBe('the name contains a control character (U+009B)');
    expect(unsafeNameReason('a\uDC80b')).toBe(
      'the name contains an unpaired surrogate (not valid Unicode text) (U+DC80)',
    );
  });

  it('keeps names exactly as their code points: two normalisations of one name are two names', () => {
    const composed = 'caf\u00e9.txt'; // é as one code point (NFC)
    const decomposed = 'cafe\u0301.txt'; // e + combining acute (NFD)
    expect(isSafeFileName(composed)).toBe(true);
    expect(isSafeFileName(decomposed)).toBe(true);
    expect(composed).not.toBe(decomposed);
    expect(assertSafeFileName(decomposed)).toBe(decomposed);
    expect(isSafeFileName('👍🏽 joinha.mp4')).toBe(true);
  });

  it('refuses non-strings', () => {
    expect(isSafeFileName(42)).toBe(false);
    expect(isSafeFileName(null)).toBe(false);
  });
});
