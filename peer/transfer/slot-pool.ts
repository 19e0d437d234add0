/**
 * Piece-sized receive buffers shared by a download's connections. A buffer holds one piece while
 * it arrives, then while it is hashed and written; the pool's size is the download's whole
 * memory budget, whatever the file's size.
 */
import { recycle, takeBuffer } from '../buffer-recycler.ts';

export class SlotPool {
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private readonly waiters: (() => void)[] = [];

  /**
   * @param slotBytes size of each buffer (the file's piece size)
   * @param maxSlots buffers at most; a receiver that finds none pauses its socket until one is free
   */
  constructor(
    readonly slotBytes: number,
    readonly maxSlots: number,
  ) {}

  /** A free buffer, or undefined when all `maxSlots` are in use. */
  acquire(): Buffer | undefined {
    const slot = this.free.pop();
    if (slot) return slot;
    if (this.allocated >= this.maxSlots) return undefined;
    this.allocated++;
    return takeBuffer(this.slotBytes);
  }

  /** A buffer, waiting for one to be released if all are in use. */
  async acquireWhenFree(): Promise<Buffer> {
    for (;;) {
      const slot = this.acquire();
      if (slot) return slot;
      await new Promise<void>((resolve) => this.whenFree(resolve));
    }
  }

  release(slot: Buffer): void {
    this.free.push(slot);
    this.waiters.shift()?.();
  }

  /** The download is over: its buffers go back for the next transfer. */
  dispose(): void {
    recycle(this.free.splice(0));
  }

  /** Calls `wake` once, the next time a buffer is released. */
  whenFree(wake: () => void): void {
    this.waiters.push(wake);
  }
}
