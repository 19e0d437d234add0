/**
 * The one piece of the WebAssembly JS API napshare uses (peer/buffer-recycler.ts: page-aligned
 * memory for O_DIRECT writes). Node has it built in; TypeScript declares it only in the DOM lib.
 */
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
  }
}
