import { describe, expect, it } from 'vitest';
import { OfferTable } from '../../peer/lan/offer-table.ts';

const offer = (file: string, port = 5000, ip = '127.0.0.1') => ({ file, size: 10, ip, port });

describe('OfferTable', () => {
  it('numbers offers in the order heard and lists them by number', () => {
    const table = new OfferTable();
    expect(table.add(offer('a'), 0)).toMatchObject({ isNew: true, offer: { id: 1, file: 'a' } });
    expect(table.add(offer('b'), 1)).toMatchObject({ isNew: true, offer: { id: 2, file: 'b' } });
    expect(table.add(offer('a', 5001), 2)).toMatchObject({ isNew: true, offer: { id: 3 } });
    expect(table.list(3).map((o) => [o.id, o.file, o.port])).toEqual([
      [1, 'a', 5000],
      [2, 'b', 5000],
      [3, 'a', 5001],
    ]);
    expect(table.get(2, 3)?.file).toBe('b');
    expect(table.get(9, 3)).toBeUndefined();
  });

  it('keeps the number of an offer announced again, with its new size', () => {
    const table = new OfferTable();
    table.add(offer('a'), 0);
    table.add(offer('b'), 0);
    const again = table.add({ ...offer('a'), size: 99 }, 5);
    expect(again).toMatchObject({ isNew: false, offer: { id: 1, size: 99, heardAtMs: 5 } });
    expect(table.size).toBe(2);
  });

  it('forgets offers not heard again within the time to live, and keeps refreshed ones', () => {
    const table = new OfferTable({ ttlMs: 1000 });
    table.add(offer('old'), 0);
    table.add(offer('fresh'), 0);
    table.add(offer('fresh'), 900);
    expect(table.list(1000).map((o) => o.file)).toEqual(['old', 'fresh']);
    expect(table.list(1001).map((o) => o.file)).toEqual(['fresh']);
    expect(table.get(1, 1001)).toBeUndefined();
    expect(table.list(1901)).toEqual([]);
  });

  it('withdraws every offer of one file server only', () => {
    const table = new OfferTable();
    table.add(offer('a', 5000), 0);
    table.add(offer('b', 5000), 0);
    table.add(offer('c', 50000), 0);
    table.add(offer('d', 5000, '127.0.0.2'), 0);
    expect(table.withdraw('127.0.0.1', 5000)).toBe(2);
    expect(table.list(0).map((o) => o.file)).toEqual(['c', 'd']);
  });

  it("is bounded per host: past the limit that host's offer heard least recently goes", () => {
    const table = new OfferTable({ maxPerHost: 3 });
    table.add(offer('theirs', 6000, '127.0.0.2'), 0);
    for (let i = 0; i < 10; i++) table.add(offer(`f${i}`), i);
    table.add(offer('f7'), 10); // refreshed: now the most recent
    table.add(offer('f10'), 11);
    expect(table.countOf('127.0.0.1')).toBe(3);
    expect(table.list(11).map((o) => o.file)).toEqual(['theirs', 'f7', 'f9', 'f10']);
  });

  it('is bounded in all: a flooding host loses its own offers, never those of a host with fewer', () => {
    const table = new OfferTable({ maxOffers: 6 });
    table.add(offer('b1', 6000, '10.0.0.2'), 0);
    table.add(offer('b2', 6000, '10.0.0.2'), 1);
    for (let i = 0; i < 20; i++) table.add(offer(`a${i}`, 5000, '10.0.0.1'), 2 + i);
    expect(table.size).toBe(6);
    expect(table.list(30).map((o) => o.file)).toEqual(['b1', 'b2', 'a16', 'a17', 'a18', 'a19']);
    // A third host gets in: the biggest one makes room.
    table.add(offer('c1', 7000, '10.0.0.3'), 30);
    expect([table.countOf('10.0.0.1'), table.countOf('10.0.0.2'), table.countOf('10.0.0.3')]).toEqual([
      3, 2, 1,
    ]);
  });

  it('of hosts holding as many offers, the one heard least recently makes room', () => {
    const table = new OfferTable({ maxOffers: 4 });
    table.add(offer('a1', 5000, '10.0.0.1'), 0);
    table.add(offer('b1', 5000, '10.0.0.2'), 1);
    table.add(offer('a2', 5000, '10.0.0.1'), 2);
    table.add(offer('b2', 5000, '10.0.0.2'), 3);
    table.add(offer('c1', 5000, '10.0.0.3'), 4);
    expect(table.list(4).map((o) => o.file)).toEqual(['b1', 'a2', 'b2', 'c1']);
  });

  it('counts an offer forgotten after its time to live as new when heard again', () => {
    const table = new OfferTable({ ttlMs: 100 });
    const first = table.add(offer('a'), 0).offer.id;
    expect(table.add(offer('a'), 50).isNew).toBe(false);
    const again = table.add(offer('a'), 151);
    expect(again.isNew).toBe(true);
    expect(again.offer.id).not.toBe(first);
    expect(table.size).toBe(1);
  });
});
