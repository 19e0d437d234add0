/**
 * File-name safety, checked on both sides of every exchange: a peer never announces, serves or
 * writes a name that could escape its folder, on POSIX or on Windows (the course runs there), nor
 * one that could change a console it is printed on (the server prints names on its graded stdout).
 * Names compare as exact code points: no normalisation, no case folding (seed 003: SEARCH is an
 * exact match), so two names that differ only by Unicode normalisation are two files.
 */
import { NapError } from './errors.ts';
import { quoteText, unsafeCharacter } from './terminal-text.ts';

/** Longest name most file systems accept (ext4, NTFS: 255 units); longer cannot be stored anyway. */
export const MAX_FILE_NAME_BYTES = 255;

const DOT = 0x2e;
const SPACE = 0x20;
// Windows device names are special in every folder, with or without an extension.
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** Why `name` is unsafe as a bare file name inside a shared folder, or null when it is safe. */
export function unsafeNameReason(name: string): string | null {
  if (name.length === 0) return 'the name is empty';
  if (Buffer.byteLength(name, 'utf8') > MAX_FILE_NAME_BYTES)
    return `the name is longer than ${MAX_FILE_NAME_BYTES} bytes`;
  if (name.includes('/') || name.includes('\\')) return 'the name contains a path separator';
  if (name.includes('..')) return 'the name contains ".."';
  if (name === '.') return 'the name is "."';
  // Controls (NUL truncates paths in C APIs), format characters (bidi controls, zero-width
  // characters, BOM), line separators and unpaired surrogates (invalid UTF-8): terminal-text.ts.
  const unsafe = unsafeCharacter(name);
  if (unsafe !== null) return `the name contains ${unsafe}`;
  // A colon is a drive letter ("C:x") or an NTFS alternate data stream ("x:y") on Windows.
  if (name.includes(':')) return 'the name contains ":" (a drive letter or stream on Windows)';
  if (WINDOWS_RESERVED.test(name)) return 'the name is a reserved device name on Windows';
  const last = name.charCodeAt(name.length - 1);
  if (last === DOT || last === SPACE) return 'the name ends with a dot or a space (Windows drops them)';
  return null;
}

export function isSafeFileName(name: unknown): name is string {
  return typeof name === 'string' && unsafeNameReason(name) === null;
}

/** Throws UNSAFE_NAME when `name` is not a safe bare file name. */
export function assertSafeFileName(name: string): string {
  const reason = unsafeNameReason(name);
  if (reason !== null) throw new NapError('UNSAFE_NAME', `Unsafe file name ${quoteText(name)}: ${reason}.`);
  return name;
}
