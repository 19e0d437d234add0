/**
 * The files a DHT daemon publishes (seed 000, 18: "ajouter son nom dans la liste self.files"),
 * name to path. `publish DIR` may name any folder, so unlike the folder catalog of the other modes
 * the file server serves exactly these paths. Pure table apart from the lstat in find().
 */
import fs from 'node:fs/promises';
import { NapError } from '../../shared/errors.ts';
import { isSafeFileName } from '../../shared/file-names.ts';
import { nameMatches } from '../../shared/keywords.ts';
import type { Catalog, SharedFile } from '../shared-folder.ts';

/**
 * Names published at once by one daemon (`--max-files`). Each name is announced under up to ~100
 * keys and every key is re-announced periodically: 10 000 files is already a heavy load on the DHT.
 */
export const DEFAULT_MAX_PUBLISHED_FILES = 10_000;

export interface PublishedFile {
  name: string;
  /** Absolute path of the file served under `name`. */
  path: string;
}

export class PublishedCatalog implements Catalog {
  private readonly files = new Map<string, string>();

  constructor(private readonly maxFiles = DEFAULT_MAX_PUBLISHED_FILES) {}

  /**
   * Adds files (a name already published now points to the new path). Throws, adding nothing,
   * BAD_ARGUMENT when the table would grow past maxFiles, UNSAFE_NAME for an unsafe name.
   */
  add(files: PublishedFile[]): void {
    const added = new Set(files.filter((file) => !this.files.has(file.name)).map((file) => file.name)).size;
    if (this.files.size + added > this.maxFiles) {
      throw new NapError(
        'BAD_ARGUMENT',
        `At most ${this.maxFiles} files can be published at once (--max-files); ${this.files.size} already are.`,
      );
    }
    const unsafe = files.find((file) => !isSafeFileName(file.name));
    if (unsafe) throw new NapError('UNSAFE_NAME', `Cannot publish ${JSON.stringify(unsafe.name)}.`);
    for (const file of files) this.files.set(file.name, file.path);
  }

  /** Forgets every file; returns how many there were. */
  clear(): number {
    const count = this.files.size;
    this.files.clear();
    return count;
  }

  get size(): number {
    return this.files.size;
  }

  /** Published names, sorted. */
  names(): string[] {
    return [...this.files.keys()].sort();
  }

  has(name: string): boolean {
    return this.files.has(name);
  }

  async find(name: string): Promise<SharedFile> {
    const filePath = this.files.get(name);
    // lstat: a path replaced by a symbolic link since publish must not lead outside what was published.
    const stat = filePath === undefined ? null : await fs.lstat(filePath).catch(() => null);
    if (filePath === undefined || !stat?.isFile()) {
      throw new NapError('NOT_FOUND', `No published file named ${JSON.stringify(name)}.`);
    }
    return { path: filePath, size: stat.size, mtimeMs: stat.mtimeMs };
  }

  async list(keyword?: string): Promise<string[]> {
    const names = this.names();
    return keyword === undefined ? names : names.filter((name) => nameMatches(name, keyword));
  }
}
