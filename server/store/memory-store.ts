/**
 * The default store: the embedded, mutex-guarded registry (registry.ts) of one server. Nothing
 * is shared, so there is nobody to broadcast to.
 */
import { Registry } from '../registry.ts';
import type { IndexSize, IndexStore, RemotePush } from './index-store.ts';

export class MemoryStore extends Registry implements IndexStore {
  override async chatRecipients(connection: number) {
    return { ...(await super.chatRecipients(connection)), elsewhere: 0 };
  }

  async counts(): Promise<{ peers: number; entries: number }> {
    return { peers: this.size, entries: this.entries };
  }

  lastCounts(): IndexSize {
    return { peers: this.size, entries: this.entries, names: this.indexedNames };
  }

  broadcast(_push: RemotePush): void {}

  onRemotePush(_handler: (push: RemotePush) => void): void {}

  async close(): Promise<void> {}
}
