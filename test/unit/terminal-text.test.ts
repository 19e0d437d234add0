/** The one boundary between network text and a terminal (shared/terminal-text.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapeTerminalText,
  isTerminalSafe,
  quoteText,
  terminalLine,
  unsafeCharacter,
} from '../../shared/terminal-text.ts';
import {
  ALL_FORBIDDEN,
  consoleProblem,
  ESCAPE_SEQUENCES,
  FORBIDDEN_CHARACTERS,
} from '../helpers/forbidden-text.ts';

describe('escapeTerminalText', () => {
  it('shows each kind of unsafe character as a visible escape', () => {
    expect(
      escapeTerminalText(
        'a\u001b[2Jb\r\nc\td\u0000e\u007ff\u0085g\u009bh\u2028i\u2029j\u202ek\u2066l\u200bm\u200dn\ufeffo\ud800p\udc80q\u{e0041}r\u00ads',
      ),
    ).toBe(
      'a\\x1B[2Jb\\r\\nc\\td\\x00e\\x7Ff\\x85g\\x9Bh\\u2028i\\u2029j\\u202Ek\\u2066l\\u200Bm\\u200Dn\\uFEFFo\\uD800p\\uDC80q\\u{E0041}r\\xADs',
    );
  });

  it.each(Object.entries(FORBIDDEN_CHARACTERS))('escapes every one of the %s', (_kind, chars) => {
    for (const char of chars) {
      const escaped = escapeTerminalText(`x${char}y`);
      expect(escaped).toMatch(/^x\\(x[0-9A-F]{2}|u[0-9A-F]{4}|u\{[0-9A-F]+\}|[nrt])y$/);
      expect(consoleProblem(Buffer.from(escaped))).toBeNull();
    }
  });

  it('leaves printable text exactly as it is: contract lines, accents, scripts, emoji, backslashes', () => {
    for (const text of [
      'Peer 127.0.0.1:8776 adicionado com arquivos aula1.mp4 aula2.mp4',
      'Arquivo aula1.mp4 baixado com sucesso na pasta c:\\temp\\peer2\\',
      'ação café 日本語 עברית العربية 😀 👍🏽',
      'tina: hi everyone',
    ])
      expect(escapeTerminalText(text)).toBe(text);
  });

  it('any text comes out printable, and escaping it again changes nothing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const escaped = escapeTerminalText(text);
        expect(consoleProblem(Buffer.from(escaped, 'utf8'))).toBeNull();
        expect(isTerminalSafe(escaped)).toBe(true);
        expect(escapeTerminalText(escaped)).toBe(escaped);
        // Nothing is dropped: a text with nothing unsafe is returned as it is.
        if (isTerminalSafe(text)) expect(escaped).toBe(text);
      }),
    );
  });

  it('no escape sequence survives', () => {
    for (const sequence of ESCAPE_SEQUENCES) {
      const escaped = escapeTerminalText(sequence);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
      expect(escaped).not.toMatch(/[\u001b\u009b\u0007\r\n]/);
      expect(consoleProblem(Buffer.from(escaped))).toBeNull();
    }
  });
});

describe('unsafeCharacter and the helpers built on it', () => {
  it('names the first unsafe character and its kind', () => {
    expect(unsafeCharacter('plain.mp4')).toBeNull();
    expect(unsafeCharacter('a\u001bb\u202e')).toBe('a control character (U+001B)');
    expect(unsafeCharacter('a\u202eb')).toBe('a bidirectional control (U+202E)');
    expect(unsafeCharacter('a\u2028')).toBe('a line or paragraph separator (U+2028)');
    expect(unsafeCharacter('a\u200bb')).toBe('an invisible format character (U+200B)');
    expect(unsafeCharacter('\ufeffa')).toBe('an invisible format character (U+FEFF)');
    expect(unsafeCharacter('a\ud800')).toBe('an unpaired surrogate (not valid Unicode text) (U+D800)');
    expect(unsafeCharacter('😀')).toBeNull();
    for (const char of ALL_FORBIDDEN) expect(unsafeCharacter(char)).not.toBeNull();
  });

  it('terminalLine ends the escaped text with one newline; quoteText quotes it escaped', () => {
    expect(terminalLine('a\nb')).toBe('a\\nb\n');
    expect(quoteText('x\u001b[2J')).toBe('"x\\x1B[2J"');
  });
});
