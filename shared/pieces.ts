/**
 * How a file is cut into pieces for verification, resume and multi-source downloads. Both sides
 * agree because the uploader states `pieceSize` in INFO_OK; this is only the uploader's choice.
 */

/** Smallest piece: big enough that a per-piece request costs nothing next to its transfer. */
export const MIN_PIECE_BYTES = 4 * 1024 * 1024;
/** Most pieces per file: bounds the INFO_OK line (67 bytes a piece) and the downloader's tables. */
export const MAX_PIECES = 8192;

export function choosePieceSize(fileSize: number): number {
  let pieceSize = MIN_PIECE_BYTES;
  while (Math.ceil(fileSize / pieceSize) > MAX_PIECES) pieceSize *= 2;
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
