/**
 * DHT keys (seed 000, 13: the key is the SHA-1 of the name). A file is announced under the SHA-1
 * of its UTF-8 name, as in the seed, and under the SHA-1 of each lower-case word of the name, so
 * `search WORD` finds it too. 20 bytes: the size of a Mainline DHT info-hash (BEP 5).
 */
import { createHash } from 'node:crypto';
import { nameWords } from '../../shared/keywords.ts';

/** SHA-1 of the UTF-8 bytes of `text`: the info-hash napshare announces and looks up. */
export function dhtKey(text: string): Buffer {
  return createHash('sha1').update(text, 'utf8').digest();
}

/** Hex of `dhtKey(text)`: the form tables and magnet links use. */
export function dhtKeyHex(text: string): string {
  return dhtKey(text).toString('hex');
}

/** Every text a file is announced under: its exact name, then each lower-case word, no repeats. */
export function announcedTexts(name: string): string[] {
  return [...new Set([name, ...nameWords(name)])];
}

/**
 * The texts `search KEYWORD` looks up: the keyword as typed (an exact name) and, when different,
 * its lower case (a word key is always lower-case).
 */
export function searchedTexts(keyword: string): string[] {
  return [...new Set([keyword, keyword.toLowerCase()])];
}
