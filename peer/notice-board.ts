/**
 * Notices for a person at the menu (the index server was lost, joined again). A prompt owns the
 * terminal while it is drawn, so a notice is not written over it: it is posted here, the menu
 * closes its prompt, prints the notice, and draws itself again.
 */

/** Notices kept while nobody reads them (a long download): the latest ones matter, 100 is plenty. */
const MAX_PENDING = 100;

export class NoticeBoard {
  private readonly pending: string[] = [];
  private readonly listeners = new Set<() => void>();

  post(message: string): void {
    this.pending.push(message);
    if (this.pending.length > MAX_PENDING) this.pending.shift();
    for (const listener of this.listeners) listener();
  }

  /** The notices posted since the last call, oldest first. */
  take(): string[] {
    return this.pending.splice(0);
  }

  /** Calls `listener` at each post until the returned function is called. */
  onPost(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
