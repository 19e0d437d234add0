/**
 * Large transfer buffers (upload chunks, piece buffers) kept between transfers, so each new one
 * reuses memory instead of allocating while the last one's buffers still wait for the garbage
 * collector: without it, back-to-back transfers showed twice the buffers in the peak RSS.
 */

/** Idle bytes kept at most: one transfer's worth (2 x 4 MiB). */
const MAX_IDLE_BYTES = 8 * 1024 * 1024;

const idle: Buffer[] = [];
let idleBytes = 0;

/** A buffer of exactly `size` bytes, reused when one is idle. Its content is garbage. */
export function takeBuffer(size: number): Buffer {
  const at = idle.findIndex((buffer) => buffer.length === size);
  if (at === -1) return Buffer.allocUnsafeSlow(size);
  const [buffer] = idle.splice(at, 1) as [Buffer];
  idleBytes -= buffer.length;
  return buffer;
}

/** Hands buffers back once nothing uses them any more; past the bound they are left to the GC. */
export function recycle(buffers: Iterable<Buffer>): void {
  for (const buffer of buffers) {
    if (idleBytes + buffer.length > MAX_IDLE_BYTES) return;
    idle.push(buffer);
    idleBytes += buffer.length;
  }
}
