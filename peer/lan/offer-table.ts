/**
 * The offers a member heard from the group (seed 001, extensions: "un dictionnaire des fichiers
 * proposés par les autres peers"). Pure state, time passed in: each offer gets a number people
 * pick it by (`GET 3 password`), is refreshed when announced again, and is forgotten when its
 * member withdraws it or stops announcing it.
 */
import type { OfferAnnouncement } from './datagram.ts';

/**
 * Offers kept at most: a LAN of members offering a few files each stays far below; past it the
 * offer heard least recently goes, so a flood of announcements cannot grow memory.
 */
export const MAX_OFFERS = 1000;
/** Members announce their offers again every OFFER_REPEAT_MS (lan-peer.ts). */
export const OFFER_REPEAT_MS = 30_000;
/** An offer not heard again for three repeats (and some slack) is gone: its member left. */
export const OFFER_TTL_MS = 3 * OFFER_REPEAT_MS + 10_000;

export interface HeardOffer extends OfferAnnouncement {
  /** The number shown by OFFERS; stable while the offer lives. */
  id: number;
  heardAtMs: number;
}

export class OfferTable {
  // Keyed by server address and file name; Map order is kept "least recently heard first".
  private readonly offers = new Map<string, HeardOffer>();
  private nextId = 1;

  constructor(
    private readonly maxOffers = MAX_OFFERS,
    private readonly ttlMs = OFFER_TTL_MS,
  ) {}

  /** Records an announcement; `isNew` is false when it only refreshes an offer already known. */
  add(announcement: OfferAnnouncement, nowMs: number): { offer: HeardOffer; isNew: boolean } {
    const key = offerKey(announcement.ip, announcement.port, announcement.file);
    const known = this.offers.get(key);
    this.offers.delete(key);
    const offer: HeardOffer = { ...announcement, id: known?.id ?? this.nextId++, heardAtMs: nowMs };
    this.offers.set(key, offer);
    while (this.offers.size > this.maxOffers) {
      const oldest = this.offers.keys().next().value as string;
      this.offers.delete(oldest);
    }
    return { offer, isNew: known === undefined };
  }

  /** Forgets every offer of the file server ip:port; returns how many went. */
  withdraw(ip: string, port: number): number {
    const prefix = offerKey(ip, port, '');
    let removed = 0;
    for (const key of [...this.offers.keys()]) {
      if (key.startsWith(prefix)) {
        this.offers.delete(key);
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

  private expire(nowMs: number): void {
    // Least recently heard first: stop at the first one still fresh.
    for (const [key, offer] of this.offers) {
      if (nowMs - offer.heardAtMs <= this.ttlMs) break;
      this.offers.delete(key);
    }
  }
}

function offerKey(ip: string, port: number, file: string): string {
  // NUL never occurs in a safe file name, so keys cannot collide.
  return `${ip}:${port}\u0000${file}`;
}
