/**
 * Large transfer buffers (upload chunks, piece buffers) kept between transfers, so each new one
 * reuses memory instead of allocating while the last one's buffers still wait for the garbage
 * collector: without it, back-to-back transfers showed twice the buffers in the peak RSS.
 */

/**
 * Alignment of every buffer handed out: O_DIRECT writes (peer/transfer/part-file.ts) need the
 * memory, the file offset and the length aligned to the disk's block size (512 or 4096 bytes).
 */
export const BUFFER_ALIGNMENT = 4096;
/** WebAssembly memory comes in 64 KiB pages, and V8 maps it page-aligned. */
const WASM_PAGE_BYTES = 64 * 1024;

/**
 * Idle bytes kept at most: one transfer's worth (a download's 2 x 2 MiB units, an upload's
 * 2 x 2 MiB chunks, a multi-source piece); more would sit in the peak RSS of the next one.
 */
const MAX_IDLE_BYTES = 4 * 1024 * 1024;

const idle: Buffer[] = [];
/** The memories allocateAligned made (weakly held: they go with their buffers). */
const ALIGNED = new WeakSet<ArrayBufferLike>();
let idleBytes = 0;

/** A buffer of exactly `size` bytes, reused when one is idle. Its content is garbage. */
export function takeBuffer(size: number): Buffer {
  const at = idle.findIndex((buffer) => buffer.length === size);
  if (at === -1) return allocateAligned(size);
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

/**
 * A new buffer of `size` bytes whose memory starts on a page boundary. Node's Buffers come from
 * malloc, at no particular alignment; a WebAssembly.Memory is mapped by V8 with mmap, so its
 * first byte is page-aligned. Its pages are zeroed by the kernel when first touched.
 */
export function allocateAligned(size: number): Buffer {
  const pages = Math.max(1, Math.ceil(size / WASM_PAGE_BYTES));
  // Shared: a download's SHA-256 thread (peer/transfer/thread-hash.ts) reads it in place.
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  ALIGNED.add(memory.buffer);
  return Buffer.from(memory.buffer, 0, size);
}

/** Whether `buffer`'s memory starts on a BUFFER_ALIGNMENT boundary (a buffer of allocateAligned, or a slice of one at an aligned offset). */
export function isAligned(buffer: Buffer): boolean {
  return ALIGNED.has(buffer.buffer) && buffer.byteOffset % BUFFER_ALIGNMENT === 0;
}
