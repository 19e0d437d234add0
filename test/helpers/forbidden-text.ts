/**
 * Every kind of character that must never reach a terminal raw from the network, for the tests of
 * names, codecs and console output; and a check of console bytes written independently of
 * shared/terminal-text.ts, so a test does not trust the module it tests.
 */
import { isUtf8 } from 'node:buffer';

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i));

/** Single characters, by kind. */
export const FORBIDDEN_CHARACTERS: Record<string, string[]> = {
  'C0 controls': range(0x00, 0x1f),
  DEL: ['\u007f'],
  'C1 controls (U+0085 NEL, U+009B CSI among them)': range(0x80, 0x9f),
  'line and paragraph separators': ['\u2028', '\u2029'],
  'bidi controls': ['\u061c', '\u200e', '\u200f', ...range(0x202a, 0x202e), ...range(0x2066, 0x2069)],
  'zero-width characters': ['\u200b', '\u200c', '\u200d', '\u2060'],
  'byte order mark': ['\ufeff'],
  'soft hyphen and other format characters': ['\u00ad', '\ufff9', '\u{e0041}'],
  'lone surrogates': ['\ud800', '\udbff', '\udc00', '\udfff'],
};

/** Every forbidden character, one per entry. */
export const ALL_FORBIDDEN: string[] = Object.values(FORBIDDEN_CHARACTERS).flat();

/** Escape sequences a hostile peer would send to take a terminal over. */
export const ESCAPE_SEQUENCES = [
  '\u001b[2J\u001b[H', // clear the screen, cursor home
  '\u001b]0;pwned\u0007', // set the window title (OSC)
  '\u001b[31mred\u001b[0m', // colour
  '\u009b2J', // CSI as one C1 character
  '\r\nArquivo aula1.mp4 baixado com sucesso na pasta /forged', // a forged contract line
];

/** Byte sequences that are not UTF-8: a lone continuation, overlong, a surrogate, past U+10FFFF, cut. */
export const INVALID_UTF8: Buffer[] = [
  Buffer.from([0xff]),
  Buffer.from([0x80]),
  Buffer.from([0xc0, 0x80]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  Buffer.from([0xe2, 0x82]),
];

// What a console line may hold: printable text. Written out here, not taken from terminal-text.ts.
const RAW_UNSAFE = new RegExp(
  '[\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u00ad\\u061c\\u200b-\\u200f\\u2028-\\u202e' +
    '\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb\\u{e0000}-\\u{e007f}]',
  'u',
);

/**
 * Why `bytes` (what a napshare process wrote to a console) could drive a terminal, or null when
 * they are valid UTF-8 holding nothing but printable text and newlines.
 */
export function consoleProblem(bytes: Buffer): string | null {
  if (!isUtf8(bytes)) return 'not valid UTF-8';
  const text = bytes.toString('utf8');
  const unsafe = RAW_UNSAFE.exec(text);
  if (unsafe)
    return `holds U+${(unsafe[0].codePointAt(0) ?? 0).toString(16).padStart(4, '0')} at ${unsafe.index}`;
  if (text.includes('\ufffd')) return 'holds U+FFFD (invalid bytes were replaced, not refused)';
  return null;
}

const FORBIDDEN_SET = new Set(ALL_FORBIDDEN);

/**
 * `text` as napshare must show it, built from the lists above and the documented escape forms
 * (docs/protocol.md, "Console safety"), not from terminal-text.ts: a test oracle.
 */
export function shownAs(text: string): string {
  let shown = '';
  for (let i = 0; i < text.length; ) {
    const code = text.codePointAt(i) as number;
    // A lone surrogate is one code unit; a pair is one character of two.
    const char = code >= 0xd800 && code <= 0xdfff ? (text[i] as string) : String.fromCodePoint(code);
    i += char.length;
    if (!FORBIDDEN_SET.has(char)) shown += char;
    else if (char === '\n') shown += '\\n';
    else if (char === '\r') shown += '\\r';
    else if (char === '\t') shown += '\\t';
    else {
      const hex = code.toString(16).toUpperCase();
      shown +=
        code <= 0xff
          ? `\\x${hex.padStart(2, '0')}`
          : code <= 0xffff
            ? `\\u${hex.padStart(4, '0')}`
            : `\\u{${hex}}`;
    }
  }
  return shown;
}
