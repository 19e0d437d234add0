/**
 * The one boundary between text that came from another machine and a terminal. Every napshare
 * console writer (the course peer, the index server, the chat peer, the LAN mode, the DHT daemon
 * and client, gossip; stdout and stderr alike) writes its lines through `terminalLine`, so no peer
 * and no server can put a line, a colour, a cursor move or a screen clear on another's console.
 * Grammars that must never hold such characters (file names, aliases) refuse them with
 * `unsafeCharacter`, so the course's contract lines are printed exactly as they are.
 * Pure: strings in, strings out.
 */

/**
 * What a terminal (or a person reading one) must never receive raw:
 * - Cc: C0 controls (ESC starts colours and screen clears, CR and LF start lines, BS rubs out),
 *   DEL, and C1 controls U+0080-U+009F (U+009B is CSI, U+0085 a new line in some terminals);
 * - Cf: format characters, invisible: bidi controls (U+202E turns the rest of a line around),
 *   zero-width characters (U+200B-U+200D, U+2060), the byte order mark U+FEFF, tags;
 * - Zl, Zp: U+2028 and U+2029, line and paragraph separators;
 * - Cs: unpaired surrogates, which are no character at all (invalid UTF-8 bytes arrive as such,
 *   see utf8-text.ts).
 * Bidi_Control is within Cf; it is named here so the rule reads as it is documented.
 */
const UNSAFE_CLASS = '[\\p{Cc}\\p{Cf}\\p{Bidi_Control}\\p{Zl}\\p{Zp}\\p{Cs}]';
const UNSAFE = new RegExp(UNSAFE_CLASS, 'u');
const UNSAFE_ALL = new RegExp(UNSAFE_CLASS, 'gu');

/** The usual escapes people recognise; every other unsafe character is shown by its number. */
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** What kind of unsafe character `char` is, as a phrase for an error message. */
function kindOf(char: string): string {
  if (/\p{Cs}/u.test(char)) return 'an unpaired surrogate (not valid Unicode text)';
  if (/\p{Cc}/u.test(char)) return 'a control character';
  if (/[\p{Zl}\p{Zp}]/u.test(char)) return 'a line or paragraph separator';
  if (/\p{Bidi_Control}/u.test(char)) return 'a bidirectional control';
  return 'an invisible format character';
}

/** `U+001B`: a code point as the Unicode standard writes it. */
export function codePointName(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The first character of `text` that must not reach a terminal raw, described for an error
 * message (e.g. `a control character (U+001B)`), or null when there is none.
 */
export function unsafeCharacter(text: string): string | null {
  if (isPrintableAscii(text)) return null;
  const match = UNSAFE.exec(text);
  if (match === null) return null;
  return `${kindOf(match[0])} (${codePointName(match[0])})`;
}

/**
 * True when every character of `text` is printable ASCII (U+0020-U+007E), none of them unsafe: a
 * loop over the line costs a fraction of the Unicode-class regex, and most lines (every console
 * line of a server printing thousands a second) are such.
 */
function isPrintableAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return false;
  }
  return true;
}

/** True when `text` holds nothing `escapeTerminalText` would change. */
export function isTerminalSafe(text: string): boolean {
  return isPrintableAscii(text) || !UNSAFE.test(text);
}

/**
 * `text` with every unsafe character replaced by a visible escape of printable ASCII: `\n`, `\r`,
 * `\t`, `\x1B` (U+0000-U+00FF), `\u202E` (the rest of the BMP, lone surrogates included),
 * `\u{E0041}` (beyond). Safe text comes back unchanged, so contract lines stay byte-exact.
 * Backslashes are kept as they are: Windows paths stay readable.
 */
export function escapeTerminalText(text: string): string {
  if (isTerminalSafe(text)) return text;
  return text.replace(UNSAFE_ALL, (char) => {
    const named = NAMED[char];
    if (named !== undefined) return named;
    const code = char.codePointAt(0) ?? 0;
    const hex = code.toString(16).toUpperCase();
    if (code <= 0xff) return `\\x${hex.padStart(2, '0')}`;
    if (code <= 0xffff) return `\\u${hex.padStart(4, '0')}`;
    return `\\u{${hex}}`;
  });
}

/** One console line: `text` escaped, then the newline. Every console writer ends in this. */
export function terminalLine(text: string): string {
  return `${escapeTerminalText(text)}\n`;
}

/** `"text"`, escaped: how an error message quotes something a peer or a person sent. */
export function quoteText(text: string): string {
  return `"${escapeTerminalText(text)}"`;
}
