/**
 * Splits a byte stream into `\n`-terminated UTF-8 lines, with a bound on the length of a line.
 * Pure: the socket owner feeds it chunks. Chunks may cut a line, or a UTF-8 character, anywhere:
 * bytes are kept until the newline arrives and only whole lines are decoded. Invalid UTF-8 is
 * not hidden behind U+FFFD: each invalid byte comes out as a lone surrogate (utf8-text.ts), which
 * parseMessage refuses with BAD_REQUEST and a terminal shows escaped.
 */
import { NapError } from './errors.ts';
import { decodeUtf8 } from './utf8-text.ts';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/**
 * Chunks under this size (that hold no newline) are copied into one growing piece instead of
 * being kept each as its own Buffer: a line sent a few bytes per TCP segment would otherwise cost
 * a Buffer object (about 100 bytes) per chunk, 100 times its own size, whatever the line bound.
 */
const SMALL_CHUNK_BYTES = 4096;
/** Sizes of that growing piece: it doubles with the line, from the first to the last. */
const MIN_PIECE_BYTES = 256;
const MAX_PIECE_BYTES = 64 * 1024;

export class LineSplitter {
  private pending: Buffer[] = [];
  // Bytes of pending[0] already handed out as lines: a chunk of 16 pipelined lines is read in
  // place, not sliced again (and the pending array rebuilt) for every line. 0 except between the
  // lines of one chunk (`settle` folds it in before anything else looks at pending[0]).
  private offset = 0;
  private pendingBytes = 0;
  // Leading pending chunks already searched for a newline, and their size: a line that arrives a
  // byte at a time is scanned once, not once per byte.
  private scannedChunks = 0;
  private scannedBytes = 0;
  // The growing piece small chunks are copied into: `piece` is the last pending Buffer, a view of
  // `pieceStore` from `pieceStart` to `pieceEnd`.
  private piece: Buffer | undefined;
  private pieceStore: Buffer | undefined;
  private pieceStart = 0;
  private pieceEnd = 0;

  /** @param maxLineBytes longest line accepted, newline excluded; past it LINE_TOO_LONG is thrown. */
  constructor(readonly maxLineBytes: number) {}

  /** Feeds a chunk and returns every line it completes (without `\n` or a trailing `\r`). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let line = this.shift(chunk);
    while (line !== null) {
      lines.push(line);
      line = this.shift();
    }
    return lines;
  }

  /**
   * Feeds `chunk` (if any) and returns the first complete line, keeping every byte after it
   * buffered. Lets a caller read one header line, then take the raw bytes that follow (`takeRest`).
   */
  shift(chunk?: Buffer): string | null {
    const line = this.shiftBytes(chunk);
    if (line === null) return null;
    const end = line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN ? line.length - 1 : line.length;
    return decodeUtf8(line, 0, end);
  }

  /**
   * Like `shift`, but the line's bytes exactly as they came (a trailing `\r` and invalid UTF-8
   * kept), without the `\n`: for relaying lines verbatim.
   */
  shiftBytes(chunk?: Buffer): Buffer | null {
    if (chunk && chunk.length > 0) {
      this.settle();
      if (!this.appendSmall(chunk)) this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    for (let i = this.scannedChunks; i < this.pending.length; i++) {
      const part = this.pending[i] as Buffer;
      const from = i === 0 ? this.offset : 0;
      const at = part.indexOf(NEWLINE, from);
      if (at === -1) {
        this.scannedChunks = i + 1;
        this.scannedBytes += part.length - from;
        continue;
      }
      const lineBytes = this.scannedBytes + at - from;
      this.scannedChunks = 0;
      this.scannedBytes = 0;
      if (lineBytes > this.maxLineBytes) throw this.tooLong();
      const head =
        i === 0
          ? part.subarray(from, at)
          : Buffer.concat(
              [
                (this.pending[0] as Buffer).subarray(this.offset),
                ...this.pending.slice(1, i),
                part.subarray(0, at),
              ],
              lineBytes,
            );
      this.pendingBytes -= lineBytes + 1;
      if (at + 1 < part.length) {
        // The rest of `part` stays first, read from `offset` on.
        if (i > 0) this.pending = this.pending.slice(i);
        this.offset = at + 1;
      } else {
        this.pending = this.pending.slice(i + 1);
        this.offset = 0;
      }
      // The growing piece is kept only while it is the last pending Buffer (no idle store held).
      if (this.pending[this.pending.length - 1] !== this.piece) this.dropPiece();
      return head;
    }
    this.settle();
    if (this.pendingBytes > this.maxLineBytes) throw this.tooLong();
    return null;
  }

  /** Folds `offset` into pending[0], so every other method sees whole pending Buffers. */
  private settle(): void {
    if (this.offset === 0) return;
    const first = this.pending[0] as Buffer;
    const rest = first.subarray(this.offset);
    if (first === this.piece) {
      this.piece = rest;
      this.pieceStart += this.offset;
    }
    this.pending[0] = rest;
    this.offset = 0;
  }

  /**
   * Copies a small chunk without a newline into the last pending piece, when everything pending
   * is scanned already (then the copy needs no scan either). False: the caller keeps it as it is.
   */
  private appendSmall(chunk: Buffer): boolean {
    const last = this.pending[this.pending.length - 1];
    if (
      last === undefined ||
      chunk.length >= SMALL_CHUNK_BYTES ||
      this.scannedChunks !== this.pending.length ||
      chunk.indexOf(NEWLINE) !== -1
    )
      return false;
    const store = this.pieceStore;
    if (last === this.piece && store && this.pieceEnd + chunk.length <= store.length) {
      chunk.copy(store, this.pieceEnd);
      this.pieceEnd += chunk.length;
    } else if (last.length < SMALL_CHUNK_BYTES) {
      // A new piece for the last pending Buffer and the chunk, room to double.
      const size = Math.min(MAX_PIECE_BYTES, Math.max(MIN_PIECE_BYTES, 2 * (last.length + chunk.length)));
      const fresh = Buffer.allocUnsafe(Math.max(size, last.length + chunk.length));
      last.copy(fresh, 0);
      chunk.copy(fresh, last.length);
      this.pieceStore = fresh;
      this.pieceStart = 0;
      this.pieceEnd = last.length + chunk.length;
    } else if (last === this.piece && store) {
      // The piece is full: the next one starts with this chunk, twice the size of the last.
      const fresh = Buffer.allocUnsafe(Math.min(MAX_PIECE_BYTES, 2 * store.length));
      chunk.copy(fresh, 0);
      this.pieceStore = fresh;
      this.pieceStart = 0;
      this.pieceEnd = chunk.length;
      this.piece = fresh.subarray(0, chunk.length);
      this.pending.push(this.piece);
      this.scannedChunks++;
      this.scannedBytes += chunk.length;
      return true;
    } else {
      return false;
    }
    const grown = (this.pieceStore as Buffer).subarray(this.pieceStart, this.pieceEnd);
    this.scannedBytes += grown.length - last.length;
    this.pending[this.pending.length - 1] = grown;
    this.piece = grown;
    return true;
  }

  private dropPiece(): void {
    this.piece = undefined;
    this.pieceStore = undefined;
  }

  /** Buffers held for the unfinished line (for tests: small chunks share pieces). */
  get pieceCount(): number {
    return this.pending.length;
  }

  /** Bytes received after the last line returned (and clears them). */
  takeRest(): Buffer {
    this.settle();
    const rest = Buffer.concat(this.pending, this.pendingBytes);
    this.dropPiece();
    this.pending = [];
    this.pendingBytes = 0;
    this.scannedChunks = 0;
    this.scannedBytes = 0;
    return rest;
  }

  /** Bytes buffered that do not make a whole line yet. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  private tooLong(): NapError {
    return new NapError('LINE_TOO_LONG', `Line longer than ${this.maxLineBytes} bytes.`);
  }
}
