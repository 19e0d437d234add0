/**
 * The offers a member heard from the group (seed 001, extensions: "un dictionnaire des fichiers
 * proposés par les autres peers"). Pure state, time passed in: each offer gets a number people
 * pick it by (`GET 3 password`), is refreshed when announced again, and is forgotten when its
 * member withdraws it or stops announcing it.
 *
 * Bounded twice, so that one machine flooding the group with offers cannot push out the others':
 * - per host (the offer's IP, which is the datagram's source address): past `maxPerHost`, that
 *   host's offer heard least recently goes;
 * - in all: past `maxOffers`, the host holding the most offers loses the one it was heard offering
 *   least recently (of hosts holding as many, the one heard least recently), so a host with fewer
 *   offers than another never loses one to a newcomer.
 * An offer announced again (every 30 s by its member) only moves to "heard most recently".
 */
import type { OfferAnnouncement } from './datagram.ts';

/**
 * Offers kept in all (`--max-offers`): a LAN of members offering a few files each stays far
 * below; a flood of announcements cannot grow memory past it.
 */
export const DEFAULT_MAX_OFFERS = 1000;
/**
 * Offers kept per host (`--max-offers-per-host`): a person offers files one at a time, with a
 * password each; a hundred is plenty for one machine, several members of one machine included.
 */
export const DEFAULT_MAX_OFFERS_PER_HOST = 100;
/** Members announce their offers again every OFFER_REPEAT_MS (lan-peer.ts). */
export const OFFER_REPEAT_MS = 30_000;
/** An offer not heard again for three repeats (and some slack) is gone: its member left. */
export const OFFER_TTL_MS = 3 * OFFER_REPEAT_MS + 10_000;

export interface HeardOffer extends OfferAnnouncement {
  /** The number shown by OFFERS; stable while the offer lives. */
  id: number;
  heardAtMs: number;
}

export interface OfferTableOptions {
  maxOffers?: number;
  maxPerHost?: number;
  ttlMs?: number;
}

export class OfferTable {
  // Keyed by server address and file name; Map order is kept "least recently heard first".
  private readonly offers = new Map<string, HeardOffer>();
  /** The same offers by host, in the same order. */
  private readonly byHost = new Map<string, Map<string, HeardOffer>>();
  private readonly maxOffers: number;
  private readonly maxPerHost: number;
  private readonly ttlMs: number;
  private nextId = 1;

  constructor(options: OfferTableOptions = {}) {
    this.maxOffers = options.maxOffers ?? DEFAULT_MAX_OFFERS;
    this.maxPerHost = options.maxPerHost ?? DEFAULT_MAX_OFFERS_PER_HOST;
    this.ttlMs = options.ttlMs ?? OFFER_TTL_MS;
  }

  /** Records an announcement; `isNew` is false when it only refreshes an offer already known. */
  add(announcement: OfferAnnouncement, nowMs: number): { offer: HeardOffer; isNew: boolean } {
    this.expire(nowMs);
    const key = offerKey(announcement.ip, announcement.port, announcement.file);
    const known = this.offers.get(key);
    if (known) this.remove(key, known);
    else this.makeRoomFor(announcement.ip);
    const offer: HeardOffer = { ...announcement, id: known?.id ?? this.nextId++, heardAtMs: nowMs };
    this.offers.set(key, offer);
    const ofHost = this.byHost.get(offer.ip) ?? new Map<string, HeardOffer>();
    ofHost.set(key, offer);
    this.byHost.set(offer.ip, ofHost);
    return { offer, isNew: known === undefined };
  }

  /** Forgets every offer of the file server ip:port; returns how many went. */
  withdraw(ip: string, port: number): number {
    const prefix = offerKey(ip, port, '');
    let removed = 0;
    for (const [key, offer] of [...(this.byHost.get(ip) ?? [])]) {
      if (key.startsWith(prefix)) {
        this.remove(key, offer);
        removed++;
      }
    }
    return removed;
  }

  /** The live offers, by number. */
  list(nowMs: number): HeardOffer[] {
    this.expire(nowMs);
    return [...this.offers.values()].sort((a, b) => a.id - b.id);
  }

  get(id: number, nowMs: number): HeardOffer | undefined {
    this.expire(nowMs);
    for (const offer of this.offers.values()) if (offer.id === id) return offer;
    return undefined;
  }

  get size(): number {
    return this.offers.size;
  }

  /** Offers kept from `ip`. */
  countOf(ip: string): number {
    return this.byHost.get(ip)?.size ?? 0;
  }

  /** Evicts one offer if a new one from `ip` would pass a bound (see the file's comment). */
  private makeRoomFor(ip: string): void {
    const own = this.byHost.get(ip);
    if (own && own.size >= this.maxPerHost) {
      this.removeOldestOf(own);
      return;
    }
    if (this.offers.size < this.maxOffers) return;
    // The host holding the most offers (of equals, the one heard least recently) loses one.
    let largest: Map<string, HeardOffer> | undefined;
    for (const ofHost of this.byHost.values()) {
      if (
        !largest ||
        ofHost.size > largest.size ||
        (ofHost.size === largest.size && oldestAt(ofHost) < oldestAt(largest))
      )
        largest = ofHost;
    }
    if (largest) this.removeOldestOf(largest);
  }

  private removeOldestOf(offers: Map<string, HeardOffer>): void {
    const oldest = offers.entries().next().value;
    if (oldest) this.remove(oldest[0], oldest[1]);
  }

  private remove(key: string, offer: HeardOffer): void {
    this.offers.delete(key);
    const ofHost = this.byHost.get(offer.ip);
    ofHost?.delete(key);
    if (ofHost?.size === 0) this.byHost.delete(offer.ip);
  }

  private expire(nowMs: number): void {
    // Least recently heard first: stop at the first one still fresh.
    for (const [key, offer] of this.offers) {
      if (nowMs - offer.heardAtMs <= this.ttlMs) break;
      this.remove(key, offer);
    }
  }
}

/** When the offer heard least recently of `offers` was heard. */
function oldestAt(offers: Map<string, HeardOffer>): number {
  return offers.values().next().value?.heardAtMs ?? Number.POSITIVE_INFINITY;
}

function offerKey(ip: string, port: number, file: string): string {
  // NUL never occurs in a safe file name, so keys cannot collide.
  return `${ip}:${port}\u0000${file}`;
}
