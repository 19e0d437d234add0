/**
 * File name -> the peer addresses holding it, in the order they got it: SEARCH and QUERY are one
 * lookup. Most names have a single holder, so one holder is kept as the address string itself
 * and a Set is made only for a second: the registry then costs about 80 bytes per entry instead
 * of 233 (10,000 peers x 100 distinct names of 24 characters, measured; README, "Names,
 * addresses and budgets"). State only.
 */
export class HolderIndex {
  private readonly holders = new Map<string, string | Set<string>>();

  add(name: string, address: string): void {
    const held = this.holders.get(name);
    if (held === undefined) this.holders.set(name, address);
    else if (typeof held === 'string') {
      if (held !== address) this.holders.set(name, new Set([held, address]));
    } else held.add(address);
  }

  remove(name: string, address: string): void {
    const held = this.holders.get(name);
    if (held === undefined) return;
    if (typeof held === 'string') {
      if (held === address) this.holders.delete(name);
      return;
    }
    held.delete(address);
    // Back to the plain string: the Set's memory goes with its second-to-last holder.
    if (held.size === 1) this.holders.set(name, held.values().next().value as string);
  }

  /** The addresses holding exactly `name` (no normalisation, no case folding), oldest first. */
  get(name: string): string[] {
    const held = this.holders.get(name);
    if (held === undefined) return [];
    return typeof held === 'string' ? [held] : [...held];
  }

  /** Distinct names held by anyone. */
  get names(): number {
    return this.holders.size;
  }
}
