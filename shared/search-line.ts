/**
 * The SEARCH line napshare's peers send, read on its bytes: `{"type":"SEARCH","file":"NAME"}`
 * exactly, NAME a safe file name written without an escape. It is most of what an index server
 * reads, and this reads it without decoding the line to text and parsing it as JSON. Any other
 * line (another request, spaces, other fields or another order, an escape, invalid UTF-8, a name
 * that is not safe) is not recognised, and the caller decodes it in full (decodeIndexRequest),
 * which then accepts or refuses it with its own code. So both ways give the same request for
 * every line (test/unit/search-line.test.ts compares them on generated lines). Pure.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { isSafeFileName } from './file-names.ts';

const PREFIX = Buffer.from('{"type":"SEARCH","file":"', 'latin1');
const QUOTE = 0x22;
const CLOSE_BRACE = 0x7d;

/**
 * The `file` of `line` (its bytes, without the newline) when it is the canonical SEARCH line of
 * a safe name; undefined for any other line. A safe name holds no control character (file-names.ts),
 * so its bytes are exactly what JSON.parse would have made of them.
 */
export function canonicalSearchName(line: Buffer): string | undefined {
  const start = PREFIX.length;
  const end = line.length - 2;
  if (end < start || line[end] !== QUOTE || line[end + 1] !== CLOSE_BRACE) return undefined;
  for (let i = 0; i < start; i++) if (line[i] !== PREFIX[i]) return undefined;
  // A quote inside ends the string: the rest is the full decoder's to read. A backslash (an
  // escape) is a path separator, which no safe name holds: such a line goes there too.
  if (line.indexOf(QUOTE, start) !== end) return undefined;
  const bytes = line.subarray(start, end);
  let name: string;
  if (isAscii(bytes)) name = line.toString('latin1', start, end);
  // Invalid UTF-8 is BAD_REQUEST in the full decoder (json-line.ts).
  else if (isUtf8(bytes)) name = bytes.toString('utf8');
  else return undefined;
  return isSafeFileName(name) ? name : undefined;
}
