/**
 * UTF-8 decoding that never hides invalid bytes. Node's `toString('utf8')` turns them into U+FFFD,
 * a valid character: a name or a line with invalid bytes would then pass for valid text. Here
 * each byte that is not part of a well-formed sequence becomes the lone surrogate U+DC80-U+DCFF
 * (byte 0x80-0xFF; Python's "surrogateescape", PEP 383). Well-formed UTF-8 never decodes to a lone
 * surrogate, so `hasInvalidUtf8` tells exactly whether the bytes were valid, and every check that
 * refuses unpaired surrogates (names, aliases, terminal-text.ts) refuses them too.
 * Pure.
 */
import { isUtf8 } from 'node:buffer';

/** First byte of an escaped invalid byte: 0x80 becomes U+DC80, 0xFF becomes U+DCFF. */
const ESCAPE_BASE = 0xdc00;
const LONE_SURROGATE = /\p{Cs}/u;

/** Decodes bytes[start, end) as UTF-8, each invalid byte kept as U+DC00 + byte. */
export function decodeUtf8(bytes: Buffer, start = 0, end = bytes.length): string {
  // The common case, valid text, costs one validation pass and Node's own decoder.
  if (isUtf8(bytes.subarray(start, end))) return bytes.toString('utf8', start, end);
  let text = '';
  let run = start;
  let at = start;
  while (at < end) {
    const length = sequenceLength(bytes, at, end);
    if (length > 0) {
      at += length;
      continue;
    }
    text += bytes.toString('utf8', run, at) + String.fromCharCode(ESCAPE_BASE + (bytes[at] as number));
    at += 1;
    run = at;
  }
  return text + bytes.toString('utf8', run, end);
}

/** True when `text` holds a lone surrogate: its bytes were not valid UTF-8 (or it is no text). */
export function hasInvalidUtf8(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/**
 * Length of the well-formed UTF-8 sequence at `at` (Unicode 15, table 3-7: no overlong forms, no
 * surrogates, nothing past U+10FFFF), or 0 when the byte there starts none.
 */
function sequenceLength(bytes: Buffer, at: number, end: number): number {
  const lead = bytes[at] as number;
  if (lead < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0;
    if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f;
  } else return 0;
  if (at + length > end) return 0;
  const second = bytes[at + 1] as number;
  if (second < low || second > high) return 0;
  for (let i = 2; i < length; i++) {
    const next = bytes[at + i] as number;
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return length;
}
