/**
 * The files this member offers (seed 001, 4 and extensions: "protéger chaque fichier avec un mot
 * de passe différent, être capable d'indiquer au serveur de fichiers quels sont les fichiers
 * partagés"). The file server serves these names only, each behind its own password; the rest of
 * the folder stays private.
 */
import { NapError } from '../../shared/errors.ts';
import { assertSafeFileName } from '../../shared/file-names.ts';
import { nameMatches } from '../../shared/keywords.ts';
import { type Catalog, findSharedFile, type SharedFile } from '../shared-folder.ts';

/** Files offered at most: each is announced again every 30 s, so this bounds the chatter too. */
export const MAX_OFFERED_FILES = 1000;
/** Longest password: far beyond any typed one, and it bounds what each HMAC key costs. */
export const MAX_PASSWORD_BYTES = 1024;

/** Throws BAD_ARGUMENT unless `password` is usable (non-empty, bounded, no control characters). */
export function assertPassword(password: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  if (password.length === 0 || /[\u0000-\u001f\u007f]/.test(password))
    throw new NapError('BAD_ARGUMENT', 'A password must be non-empty, without control characters.');
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES)
    throw new NapError('BAD_ARGUMENT', `A password must be at most ${MAX_PASSWORD_BYTES} bytes.`);
  return password;
}

export class OfferedFiles implements Catalog {
  private readonly passwords = new Map<string, string>();

  /** @param folder absolute folder the offered names live in (--dir). */
  constructor(readonly folder: string) {}

  /** Offers `name` (a regular file of the folder) under `password`; offering again replaces it. */
  async add(name: string, password: string): Promise<SharedFile> {
    assertSafeFileName(name);
    assertPassword(password);
    const shared = await findSharedFile(this.folder, name).catch(() => {
      throw new NapError('NOT_FOUND', `There is no file named ${JSON.stringify(name)} in ${this.folder}.`);
    });
    if (!this.passwords.has(name) && this.passwords.size >= MAX_OFFERED_FILES)
      throw new NapError('BAD_ARGUMENT', `At most ${MAX_OFFERED_FILES} files can be offered.`);
    this.passwords.set(name, password);
    return shared;
  }

  /** The password of an offered file; undefined when `name` is not offered. */
  passwordFor(name: string): string | undefined {
    return this.passwords.get(name);
  }

  get names(): string[] {
    return [...this.passwords.keys()];
  }

  find(name: string): Promise<SharedFile> {
    if (!this.passwords.has(name))
      return Promise.reject(
        new NapError('NOT_FOUND', `No file named ${JSON.stringify(name)} is offered here.`),
      );
    return findSharedFile(this.folder, name);
  }

  async list(keyword?: string): Promise<string[]> {
    const names = this.names.sort();
    return keyword === undefined ? names : names.filter((name) => nameMatches(name, keyword));
  }
}
