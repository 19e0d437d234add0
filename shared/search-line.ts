/**
 * The SEARCH line napshare's peers send, read on its bytes: `{"type":"SEARCH","file":"NAME"}`
 * exactly, NAME a JSON string with no escape. It is most of what an index server reads, and this
 * reads it without decoding the line to text and parsing it as JSON. Any other line (another
 * request, spaces, other fields or another order, an escape, a control byte, invalid UTF-8) is
 * not recognised, and goes to the full decoder (decodeIndexRequest). What comes out is what the
 * full decoder's `file` would be; the caller still checks it as a name (assertSafeFileName), as
 * the full decoder does, so both accept and refuse the same lines with the same codes
 * (test/unit/search-line.test.ts compares them on generated lines). Pure.
 */
import { isUtf8 } from 'node:buffer';

const PREFIX = Buffer.from('{"type":"SEARCH","file":"', 'latin1');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE_BRACE = 0x7d;
/** JSON strings cannot hold U+0000-U+001F raw. */
const FIRST_PRINTABLE = 0x20;
const FIRST_NON_ASCII = 0x80;

/**
 * The `file` of `line` (its bytes, without the newline) when it is the canonical SEARCH line,
 * not yet checked as a name; undefined for any other line.
 */
export function canonicalSearchName(line: Buffer): string | undefined {
  const start = PREFIX.length;
  const end = line.length - 2;
  if (end < start || line[end] !== QUOTE || line[end + 1] !== CLOSE_BRACE) return undefined;
  for (let i = 0; i < start; i++) if (line[i] !== PREFIX[i]) return undefined;
  let ascii = true;
  for (let i = start; i < end; i++) {
    const byte = line[i] as number;
    // A quote or a backslash would end or escape the string: the full decoder's to read.
    if (byte < FIRST_PRINTABLE || byte === QUOTE || byte === BACKSLASH) return undefined;
    if (byte >= FIRST_NON_ASCII) ascii = false;
  }
  if (ascii) return line.toString('latin1', start, end);
  // Invalid UTF-8 is BAD_REQUEST in the full decoder (json-line.ts): its message is its own.
  const name = line.subarray(start, end);
  return isUtf8(name) ? name.toString('utf8') : undefined;
}
