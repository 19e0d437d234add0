/**
 * File name -> the peers holding it (the registry's entries), in the order they got it: SEARCH and
 * QUERY are one lookup, with no second one per holder. Most names have a single holder, so one
 * holder is kept as itself and a Set is made only for a second: the registry then costs about
 * 80 bytes per entry instead of 233 (10,000 peers x 100 distinct names of 24 characters,
 * measured; docs/reference.md, "Names, addresses and budgets"). A name with several holders also keeps the
 * reply that lists them once it was asked for (`keep`), until its holders change: a popular
 * name's SEARCH then costs a lookup, not thousands of addresses encoded again. State only.
 */

/**
 * Bytes of encoded replies kept, all names together: a few thousand popular names' worth. Past
 * it every kept reply is dropped and they are made again as they are asked for, so the cache
 * never costs more than this, whatever names are asked for.
 */
export const MAX_ENCODED_BYTES = 32 * 1024 * 1024;

/**
 * The holders of a name held by several, oldest first, the reply kept for them, and the one copy
 * of the name every later holder keeps (`add` hands it out): a popular name is stored about twice,
 * not once per holder.
 */
export class Holders<H> {
  /** Set by HolderIndex.keep, cleared when the holders change. */
  encoded: Uint8Array | undefined;
  constructor(
    readonly name: string,
    readonly members: Set<H>,
  ) {}
}

export class HolderIndex<H> {
  private readonly holders = new Map<string, H | Holders<H>>();
  // Names whose reply is kept, and their bytes together (at most MAX_ENCODED_BYTES).
  private readonly keptReplies = new Set<Holders<H>>();
  private keptBytes = 0;

  /**
   * `holder` now holds `name`. Returns the string to keep for it: `name` itself, or the copy the
   * index already keeps for a name held by several (equal, so the caller's own can be dropped).
   */
  add(name: string, holder: H): string {
    const held = this.holders.get(name);
    if (held === undefined) this.holders.set(name, holder);
    else if (!(held instanceof Holders)) {
      if (held !== holder) this.holders.set(name, new Holders(name, new Set([held, holder])));
    } else {
      const size = held.members.size;
      held.members.add(holder);
      if (held.members.size !== size) this.forget(held);
      return held.name;
    }
    return name;
  }

  remove(name: string, holder: H): void {
    const held = this.holders.get(name);
    if (held === undefined) return;
    if (!(held instanceof Holders)) {
      if (held === holder) this.holders.delete(name);
      return;
    }
    if (!held.members.delete(holder)) return;
    this.forget(held);
    // Back to the holder itself: the Set's memory goes with its second-to-last holder.
    if (held.members.size === 1) this.holders.set(name, held.members.values().next().value as H);
  }

  /** The peers holding exactly `name` (no normalisation, no case folding), oldest first. */
  get(name: string): H[] {
    const held = this.holders.get(name);
    if (held === undefined) return [];
    return held instanceof Holders ? [...held.members] : [held];
  }

  /** What a SEARCH needs in one lookup: the only holder of `name`, or its Holders, or undefined. */
  peek(name: string): H | Holders<H> | undefined {
    return this.holders.get(name);
  }

  /**
   * Keeps `reply` for the name `held` came from (peek) until its holders change, or the cache is
   * full. The reply must depend only on the holders and what cannot change while they hold it.
   */
  keep(held: Holders<H>, reply: Uint8Array): void {
    if (reply.length > MAX_ENCODED_BYTES) return;
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

  private forget(held: Holders<H>): void {
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
