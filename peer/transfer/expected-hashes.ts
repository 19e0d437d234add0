/**
 * What a download checks its pieces against. Two kinds (docs/protocol.md, "INFO"):
 * - `pieces`: INFO_OK's hash of each piece alone, all known before the first byte. Any piece can
 *   be checked on its own: multi-source downloads and resumes with holes need this.
 * - `prefixes`: a streamed INFO's prefix hashes, SHA-256 of the file from its first byte to each
 *   piece's end, arriving while the uploader still hashes the file. A download that receives the
 *   file in order keeps one running SHA-256 and compares a copy of it at each piece's end: every
 *   piece is checked, and the last check is the whole file's SHA-256.
 */
import { NapError } from '../../shared/errors.ts';
import { pieceCount } from '../../shared/pieces.ts';
import type { FileInfo } from '../../shared/transfer-protocol.ts';

export interface ExpectedHashes {
  readonly kind: 'pieces' | 'prefixes';
  readonly size: number;
  readonly pieceSize: number;
  readonly pieceCount: number;
  /** INFO's `version`, sent back with each DOWNLOAD. */
  readonly version: string | undefined;
  /** The hash piece `index` must have (of its kind); may wait for the uploader to compute it. */
  hashOf(index: number): Promise<string>;
  /** The file's SHA-256 as the source states it; for prefixes, once its stream has ended. */
  sha256(): Promise<string>;
  /** Why no more hashes will come (the stream broke or the file changed): nothing to retry. */
  readonly failure: Error | undefined;
  close(): void;
}

/** The hashes of a complete INFO_OK. */
export function piecesOf(info: FileInfo): ExpectedHashes {
  return {
    kind: 'pieces',
    size: info.size,
    pieceSize: info.pieceSize,
    pieceCount: pieceCount(info.size, info.pieceSize),
    version: info.version,
    hashOf: async (index) => {
      const hash = info.pieces[index];
      if (hash === undefined) throw new NapError('PROTOCOL', `No hash for piece ${index}.`);
      return hash;
    },
    sha256: async () => info.sha256,
    failure: undefined,
    close: () => undefined,
  };
}
