/**
 * How a file is cut into pieces for verification, resume and multi-source downloads. Both sides
 * agree because the uploader states `pieceSize` in INFO_OK; this is only the uploader's choice.
 */

/** Smallest piece: big enough that a per-piece request costs nothing next to its transfer. */
export const MIN_PIECE_BYTES = 4 * 1024 * 1024;
/** Pieces per file aimed at: bounds the INFO_OK line (67 bytes a piece) and the downloader's tables. */
export const MAX_PIECES = 8192;
/**
 * Largest piece: a downloader holds two or three pieces in memory, so a source must not be able to
 * make it allocate more (a hostile INFO_OK claiming huge pieces is refused). Files past 512 GiB
 * get more than MAX_PIECES pieces instead.
 */
export const MAX_PIECE_BYTES = 64 * 1024 * 1024;

export function choosePieceSize(fileSize: number): number {
  let pieceSize = MIN_PIECE_BYTES;
  while (Math.ceil(fileSize / pieceSize) > MAX_PIECES && pieceSize < MAX_PIECE_BYTES) pieceSize *= 2;
  return pieceSize;
}

export function pieceCount(fileSize: number, pieceSize: number): number {
  return Math.ceil(fileSize / pieceSize);
}

/** Byte range [start, end) of piece `index`. */
export function pieceRange(
  index: number,
  fileSize: number,
  pieceSize: number,
): { start: number; end: number } {
  const start = index * pieceSize;
  return { start, end: Math.min(fileSize, start + pieceSize) };
}
