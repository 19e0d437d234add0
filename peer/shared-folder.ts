/**
 * A peer's folder (seed 003, section 5): its regular files are what it shares, and downloads land in it.
 * Partial downloads (`*.part`) are napshare's own and never shared.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { NapError } from '../shared/errors.ts';
import { isSafeFileName } from '../shared/file-names.ts';
import { nameMatches } from '../shared/keywords.ts';
import { type Log, silentLog } from '../shared/log.ts';

/** A download in progress is written as `<name>.part` and renamed when complete and verified. */
export const PART_SUFFIX = '.part';
/** A download's own files: `.part`, its lock `.part.lock`, the lock's `.part.lock.takeover`. */
const DOWNLOAD_FILE = /\.part(\.lock(\.takeover)?)?$/;

/** A download's own file (peer/transfer/download-lock.ts): never listed, never served. */
export function isPartialName(name: string): boolean {
  return DOWNLOAD_FILE.test(name);
}

/**
 * Throws NOT_A_FOLDER unless `folder` (relative to `base`, by default the current folder) is an
 * existing directory; the sentence names it as the user typed it. Returns its absolute path.
 */
export async function requireFolder(folder: string, base = process.cwd()): Promise<string> {
  const absolute = path.resolve(base, folder);
  const stat = await fs.stat(absolute).catch(() => null);
  if (!stat?.isDirectory()) {
    throw new NapError('NOT_A_FOLDER', `The folder ${folder} does not exist or is not a folder.`);
  }
  return absolute;
}

/**
 * The folder's files (seed 003, 5i: the peer finds in its folder the names it sends at JOIN):
 * the shareable regular files of `folder`, sorted (the order JOIN announces them).
 */
export async function listSharedFiles(folder: string, log: Log = silentLog): Promise<string[]> {
  const entries = await fs.readdir(folder, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || isPartialName(entry.name)) continue;
    if (!isSafeFileName(entry.name)) {
      log(`not sharing ${JSON.stringify(entry.name)}: its name is not portable`);
      continue;
    }
    names.push(entry.name);
  }
  return names.sort();
}

/** Shared names of `folder` that match `keyword` (all of them without one). */
export async function matchSharedFiles(folder: string, keyword?: string): Promise<string[]> {
  const names = await listSharedFiles(folder);
  return keyword === undefined ? names : names.filter((name) => nameMatches(name, keyword));
}

export interface SharedFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** The shared file `name` in `folder`; NOT_FOUND unless it is a regular file we share. */
export async function findSharedFile(folder: string, name: string): Promise<SharedFile> {
  const filePath = path.join(folder, name);
  // lstat: a symbolic link could point outside the folder; only regular files are shared.
  const stat =
    isSafeFileName(name) && !isPartialName(name) ? await fs.lstat(filePath).catch(() => null) : null;
  if (!stat?.isFile()) throw new NapError('NOT_FOUND', `No shared file named ${JSON.stringify(name)}.`);
  return { path: filePath, size: stat.size, mtimeMs: stat.mtimeMs };
}

/** What a file server serves: a folder by default; LAN and DHT modes serve chosen files only. */
export interface Catalog {
  /** The file shared under `name`; throws NOT_FOUND otherwise. */
  find(name: string): Promise<SharedFile>;
  /** Shared names matching `keyword` (exact name or one of its words), or all without one. */
  list(keyword?: string): Promise<string[]>;
}

export class FolderCatalog implements Catalog {
  constructor(readonly folder: string) {}

  find(name: string): Promise<SharedFile> {
    return findSharedFile(this.folder, name);
  }

  list(keyword?: string): Promise<string[]> {
    return matchSharedFiles(this.folder, keyword);
  }
}
