/**
 * One routing-table entry per address:port. A DHT node keeps its id, so an address:port that
 * speaks to us under a new id is either a node restarted there (its old entry is dead) or a socket
 * forging ids to fill our routing table with entries that will never answer (a flood of queries
 * with random ids does exactly that). Either way the old entry goes when the new id shows up.
 * libtorrent restricts its routing table likewise (one node per IP); per address:port still lets
 * several nodes share a machine, as every node does on loopback.
 */
import type { EventEmitter } from 'node:events';

interface Contact {
  id: Uint8Array;
  host: string;
  port: number;
}

export class EndpointIds {
  /** address:port -> the id of its entry in the routing table (as big as the table itself). */
  private readonly ids = new Map<string, Uint8Array>();

  /** Follows `table` (a k-bucket: 'added', 'removed' and 'updated' events). */
  constructor(table: EventEmitter) {
    table.on('added', (contact: Contact) => this.add(contact));
    table.on('removed', (contact: Contact) => this.remove(contact));
    table.on('updated', (before: Contact, after: Contact) => {
      this.remove(before);
      this.add(after);
    });
  }

  /** The id of host:port's entry when it is not `id` (the entry to drop), else undefined. */
  staleId(host: string, port: number, id: Uint8Array): Uint8Array | undefined {
    const known = this.ids.get(endpoint(host, port));
    return known !== undefined && !Buffer.from(known).equals(id) ? known : undefined;
  }

  private add(contact: Contact): void {
    this.ids.set(endpoint(contact.host, contact.port), contact.id);
  }

  private remove(contact: Contact): void {
    const key = endpoint(contact.host, contact.port);
    const known = this.ids.get(key);
    if (known !== undefined && Buffer.from(known).equals(contact.id)) this.ids.delete(key);
  }
}

function endpoint(host: string, port: number): string {
  return `${host}:${port}`;
}
