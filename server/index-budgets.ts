/**
 * What the index holds at most (docs/reference.md, "Names, addresses and budgets"), so that a few hostile connections cannot
 * grow it without end or into V8's limit on a Map (about 16.7 million keys), and the refusal
 * each budget gives. Every budget has a server flag. Pure: checks that throw NapError before the
 * registry changes anything, so a refused JOIN, SET_FILES or UPDATE changes nothing.
 */
import { NapError } from '../shared/errors.ts';

/** Seed 002 asks for a maximum number of peers (it used 5); napshare's default is larger. */
export const DEFAULT_MAX_PEERS = 1000;
/**
 * Files one peer may share: a large course or music folder; one JOIN line of 1 MiB holds about
 * 30,000 short names, UPDATE adds one at a time, this bounds both.
 */
export const DEFAULT_MAX_FILES_PER_PEER = 10_000;
/** UTF-8 bytes of one peer's names, together: a JOIN line's worth (1 MiB). */
export const DEFAULT_MAX_NAME_BYTES_PER_PEER = 1024 * 1024;
/**
 * (peer, name) entries in the whole index: twice 10,000 peers x 100 files, and an eighth of V8's
 * Map limit. Measured: about 80 bytes an entry with 24-character names (160 MB when full); the
 * worst case, every name distinct and 255 bytes long, about 310 bytes (620 MB).
 */
export const DEFAULT_MAX_ENTRIES = 2_000_000;

export interface IndexBudgets {
  /** Joined peers at most; the next JOIN gets SERVER_FULL. */
  maxPeers: number;
  /** Files one peer shares at most; past it TOO_MANY_FILES. */
  maxFilesPerPeer: number;
  /** UTF-8 bytes of one peer's file names at most; past it TOO_MANY_NAME_BYTES. */
  maxNameBytesPerPeer: number;
  /** (peer, name) entries in the index at most; past it INDEX_FULL. */
  maxEntries: number;
}

export function resolveBudgets(budgets: Partial<IndexBudgets> = {}): IndexBudgets {
  return {
    maxPeers: budgets.maxPeers ?? DEFAULT_MAX_PEERS,
    maxFilesPerPeer: budgets.maxFilesPerPeer ?? DEFAULT_MAX_FILES_PER_PEER,
    maxNameBytesPerPeer: budgets.maxNameBytesPerPeer ?? DEFAULT_MAX_NAME_BYTES_PER_PEER,
    maxEntries: budgets.maxEntries ?? DEFAULT_MAX_ENTRIES,
  };
}

/** UTF-8 bytes of `names`, together. */
export function nameBytes(names: readonly string[]): number {
  let total = 0;
  for (const name of names) total += Buffer.byteLength(name, 'utf8');
  return total;
}

/**
 * Throws unless a peer may share `files` files whose names take `bytes` bytes, when the index
 * would then hold `entries` entries in all.
 */
export function checkPeerFiles(budgets: IndexBudgets, files: number, bytes: number, entries: number): void {
  if (files > budgets.maxFilesPerPeer)
    throw new NapError(
      'TOO_MANY_FILES',
      `This index takes at most ${budgets.maxFilesPerPeer} files per peer, not ${files}; share fewer files.`,
    );
  if (bytes > budgets.maxNameBytesPerPeer)
    throw new NapError(
      'TOO_MANY_NAME_BYTES',
      `This index takes at most ${budgets.maxNameBytesPerPeer} bytes of file names per peer, not ${bytes}; share fewer or shorter names.`,
    );
  if (entries > budgets.maxEntries) throw indexFull(budgets);
}

export function indexFull(budgets: IndexBudgets): NapError {
  return new NapError(
    'INDEX_FULL',
    `The index is full (${budgets.maxEntries} file entries); no new file names until peers leave.`,
  );
}

export function serverFull(budgets: IndexBudgets): NapError {
  return new NapError(
    'SERVER_FULL',
    `The index server is full (${budgets.maxPeers} peers joined); try again later.`,
  );
}
