// @ts-check
/**
 * The thread that reads and hashes one shared file for a hash pass (peer/hash-pass.ts), so that
 * an uploader's main thread keeps sending while a first INFO's hashes are computed: on two cores
 * the pass and the upload then run side by side instead of in turns (docs/performance.md, "Cold
 * uploader"). Plain JavaScript: a worker started with the TypeScript loader would cost tens of
 * megabytes and milliseconds more, for 60 lines.
 *
 * It gets one job, {@link HashJob}, reads the open file (its descriptor is the process's: a
 * worker shares it) from start to end in chunks that never span two pieces, and posts, in order,
 * one message per piece — `{ prefix, piece? }`: the SHA-256 of everything up to the piece's end
 * and, when asked, of the piece alone — then `{ done: true }`, or `{ error: { code, message } }`
 * (`code` CHANGED: the file ended early). The pass ends it with `terminate()` when it no longer
 * wants results.
 */
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

/**
 * @typedef {object} HashJob
 * @property {number} fd
 * @property {number} size
 * @property {number} pieceSize
 * @property {number} chunkBytes
 * @property {boolean} withPieces
 */

const port = parentPort;
if (port === null) throw new Error('peer/hash-worker.mjs runs as a worker thread only');

port.once('message', (/** @type {HashJob} */ job) => {
  try {
    hash(job);
    port.postMessage({ done: true });
  } catch (error) {
    const { code, message } = /** @type {NodeJS.ErrnoException} */ (error);
    port.postMessage({ error: { code: code ?? 'IO_ERROR', message: String(message) } });
  }
});

/** @param {HashJob} job */
function hash({ fd, size, pieceSize, chunkBytes, withPieces }) {
  const whole = createHash('sha256');
  let piece = withPieces ? createHash('sha256') : undefined;
  const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(1, pieceSize)));
  let position = 0;
  let inPiece = 0;
  while (position < size) {
    const want = Math.min(buffer.length, size - position, pieceSize - inPiece);
    const bytesRead = readSync(fd, buffer, 0, want, position);
    if (bytesRead === 0) throw Object.assign(new Error('the file ended early'), { code: 'CHANGED' });
    const data = buffer.subarray(0, bytesRead);
    whole.update(data);
    piece?.update(data);
    position += bytesRead;
    inPiece += bytesRead;
    if (inPiece === pieceSize || position === size) {
      // The running hash goes on; a copy is finished into this piece's prefix hash.
      port?.postMessage({ prefix: whole.copy().digest('hex'), piece: piece?.digest('hex') });
      if (piece) piece = createHash('sha256');
      inPiece = 0;
    }
  }
}
