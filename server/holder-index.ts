/**
 * File name -> the peer addresses holding it, in the order they got it: SEARCH and QUERY are one
 * lookup. Most names have a single holder, so one holder is kept as the address string itself
 * and a Set is made only for a second: the registry then costs about 80 bytes per entry instead
 * of 233 (10,000 peers x 100 distinct names of 24 characters, measured; README, "Names,
 * addresses and budgets"). A name with several holders also keeps the reply that lists them once
 * it was asked for (`keep`), until its holders change: a popular name's SEARCH then costs a
 * lookup, not thousands of addresses encoded again. State only.
 */

/**
 * Bytes of encoded replies kept, all names together: a few thousand popular names' worth. Past
 * it every kept reply is dropped and they are made again as they are asked for, so the cache
 * never costs more than this, whatever names are asked for.
 */
export const MAX_ENCODED_BYTES = 32 * 1024 * 1024;

interface Holders {
  addresses: Set<string>;
  encoded: Uint8Array | undefined;
}

export class HolderIndex {
  private readonly holders = new Map<string, string | Holders>();
  // Names whose reply is kept, and their bytes together (at most MAX_ENCODED_BYTES).
  private readonly keptReplies = new Set<Holders>();
  private keptBytes = 0;

  add(name: string, address: string): void {
    const held = this.holders.get(name);
    if (held === undefined) this.holders.set(name, address);
    else if (typeof held === 'string') {
      if (held !== address)
        this.holders.set(name, { addresses: new Set([held, address]), encoded: undefined });
    } else {
      const size = held.addresses.size;
      held.addresses.add(address);
      if (held.addresses.size !== size) this.forget(held);
    }
  }

  remove(name: string, address: string): void {
    const held = this.holders.get(name);
    if (held === undefined) return;
    if (typeof held === 'string') {
      if (held === address) this.holders.delete(name);
      return;
    }
    if (!held.addresses.delete(address)) return;
    this.forget(held);
    // Back to the plain string: the Set's memory goes with its second-to-last holder.
    if (held.addresses.size === 1) this.holders.set(name, held.addresses.values().next().value as string);
  }

  /** The addresses holding exactly `name` (no normalisation, no case folding), oldest first. */
  get(name: string): string[] {
    const held = this.holders.get(name);
    if (held === undefined) return [];
    return typeof held === 'string' ? [held] : [...held.addresses];
  }

  /** The reply kept for `name` (see `keep`), if any. */
  kept(name: string): Uint8Array | undefined {
    const held = this.holders.get(name);
    return held === undefined || typeof held === 'string' ? undefined : held.encoded;
  }

  /**
   * Keeps `reply` for `name` until its holders change (or the cache is full), when it has several
   * holders (one holder's reply costs less to make than to keep). The reply must depend only on
   * the holders and what cannot change while they hold the name.
   */
  keep(name: string, reply: Uint8Array): void {
    const held = this.holders.get(name);
    if (held === undefined || typeof held === 'string' || reply.length > MAX_ENCODED_BYTES) return;
    this.forget(held);
    if (this.keptBytes + reply.length > MAX_ENCODED_BYTES) this.forgetAll();
    held.encoded = reply;
    this.keptReplies.add(held);
    this.keptBytes += reply.length;
  }

  /** Distinct names held by anyone. */
  get names(): number {
    return this.holders.size;
  }

  /** Bytes of the replies kept now. */
  get encodedBytes(): number {
    return this.keptBytes;
  }

  private forget(held: Holders): void {
    if (held.encoded === undefined) return;
    this.keptBytes -= held.encoded.length;
    held.encoded = undefined;
    this.keptReplies.delete(held);
  }

  private forgetAll(): void {
    for (const held of this.keptReplies) held.encoded = undefined;
    this.keptReplies.clear();
    this.keptBytes = 0;
  }
}
