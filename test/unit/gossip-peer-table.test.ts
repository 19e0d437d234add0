import { describe, expect, it } from 'vitest';
import {
  defaultMaxPending,
  defaultTargetPeers,
  isUsableAddress,
  PeerTable,
  type PeerTableOptions,
} from '../../peer/gossip/peer-table.ts';
import { selfAddressTest } from '../../peer/gossip/self-address.ts';
import { formatPeerTable, parsePeerTable } from '../../peer/gossip/table-format.ts';

const SELF = { host: '127.0.0.1', port: 4201 };

function makeTable(overrides: Partial<PeerTableOptions> = {}) {
  const clock = { now: 0 };
  const table = new PeerTable({
    now: () => clock.now,
    timeoutMs: 4000,
    maxPeers: 8,
    targetPeers: 8,
    maxPending: 2,
    minPeers: 2,
    isSelf: selfAddressTest(SELF.host, SELF.port),
    ...overrides,
  });
  const states = () => Object.fromEntries(table.view().map((row) => [`${row.host}:${row.port}`, row.state]));
  return { clock, table, states };
}

describe('gossip peer table: Hello and timeout (seed 004, 1 and 1.3)', () => {
  it('adds the sender of a Hello as active, and refreshes it on the next one', () => {
    const { clock, table, states } = makeTable();
    expect(table.onHello('127.0.0.1', 4200)).toBe('added');
    clock.now = 3000;
    expect(table.onHello('127.0.0.1', 4200)).toBe('refreshed');
    clock.now = 6999;
    expect(states()).toEqual({ '127.0.0.1:4200': 'active' });
  });

  it('turns a peer inactive after 4 s without Hello and removes it while another is active', () => {
    const { clock, table, states } = makeTable();
    table.onHello('127.0.0.1', 4200);
    table.onHello('127.0.0.1', 4202);
    clock.now = 4000;
    table.onHello('127.0.0.1', 4202);
    expect(table.expire()).toEqual([]);
    clock.now = 4001;
    expect(states()).toEqual({ '127.0.0.1:4200': 'inactive', '127.0.0.1:4202': 'active' });
    expect(table.expire().map((entry) => entry.key)).toEqual(['127.0.0.1:4200']);
    expect(states()).toEqual({ '127.0.0.1:4202': 'active' });
  });

  it('keeps the best minPeers inactive peers when none is active any more (seed 004, 2.3)', () => {
    const { clock, table, states } = makeTable({ minPeers: 2 });
    table.addBootstrap('127.0.0.1', 4200);
    clock.now = 1000;
    table.onHello('127.0.0.1', 4202);
    clock.now = 2000;
    table.onHello('127.0.0.1', 4203);
    table.onPeerAddress('10.0.0.9', 9);
    clock.now = 7000;
    // Everyone is silent: the two heard most recently stay; the bootstrap and the unheard address go.
    expect(
      table
        .expire()
        .map((entry) => entry.key)
        .sort(),
    ).toEqual(['10.0.0.9:9', '127.0.0.1:4200']);
    expect(states()).toEqual({ '127.0.0.1:4202': 'inactive', '127.0.0.1:4203': 'inactive' });
    // A kept peer that comes back is active again, with a new run of stability.
    expect(table.onHello('127.0.0.1', 4202)).toBe('revived');
    expect(table.view().find((row) => row.port === 4202)).toMatchObject({ state: 'active', stableMs: 0 });
    // ... and the other inactive one now goes, since a peer is active.
    expect(table.expire().map((entry) => entry.key)).toEqual(['127.0.0.1:4203']);
  });

  it('keeps the bootstrap, never heard, when nothing else is left', () => {
    const { clock, table, states } = makeTable();
    table.addBootstrap('127.0.0.1', 4200);
    clock.now = 4001;
    expect(table.expire()).toEqual([]);
    expect(states()).toEqual({ '127.0.0.1:4200': 'inactive' });
    expect(table.onHello('127.0.0.1', 4200)).toBe('revived');
  });

  it('measures age since the last Hello and stability since the first Hello of the run', () => {
    const { clock, table } = makeTable();
    table.onHello('127.0.0.1', 4200);
    for (clock.now = 1000; clock.now <= 9000; clock.now += 1000) table.onHello('127.0.0.1', 4200);
    clock.now = 9500;
    expect(table.view()[0]).toMatchObject({ ageMs: 500, stableMs: 9500 });
    // Silent for 5 s (and kept, being the only one): the last run stays as its stability.
    clock.now = 14_000;
    expect(table.view()[0]).toMatchObject({ state: 'inactive', ageMs: 5000, stableMs: 9000 });
  });
});

describe('gossip peer table: never oneself, only usable addresses', () => {
  it('ignores our own address in a Hello, a Peer Address or as bootstrap', () => {
    const { table } = makeTable();
    expect(table.onHello(SELF.host, SELF.port)).toBe('ignored');
    expect(table.onPeerAddress(SELF.host, SELF.port)).toBe('ignored');
    expect(table.addBootstrap(SELF.host, SELF.port)).toBe('ignored');
    expect(table.size).toBe(0);
    // The same port on another address is someone else.
    expect(table.onPeerAddress('127.0.0.2', SELF.port)).toBe('added');
  });

  it('bound to 0.0.0.0, all of 127.0.0.0/8 and every interface address at our port are us', () => {
    const interfaces = {
      eth0: [{ address: '192.168.1.20', family: 'IPv4', internal: false, netmask: '', mac: '', cidr: null }],
    } as unknown as Parameters<typeof selfAddressTest>[2];
    const isSelf = selfAddressTest('0.0.0.0', 4201, interfaces);
    expect(isSelf('127.0.0.1', 4201)).toBe(true);
    expect(isSelf('127.3.2.1', 4201)).toBe(true);
    expect(isSelf('192.168.1.20', 4201)).toBe(true);
    expect(isSelf('0.0.0.0', 4201)).toBe(true);
    expect(isSelf('192.168.1.21', 4201)).toBe(false);
    expect(isSelf('127.0.0.1', 4200)).toBe(false);
  });

  it('refuses addresses nobody can send to', () => {
    expect(isUsableAddress('127.0.0.1', 1)).toBe(true);
    expect(isUsableAddress('223.255.255.255', 65535)).toBe(true);
    for (const [host, port] of [
      ['0.0.0.0', 4200],
      ['0.1.2.3', 4200],
      ['224.0.0.1', 4200],
      ['255.255.255.255', 4200],
      ['127.0.0.1', 0],
    ] as const) {
      expect(isUsableAddress(host, port), `${host}:${port}`).toBe(false);
    }
    const { table } = makeTable();
    expect(table.onHello('255.255.255.255', 4200)).toBe('ignored');
    expect(table.onPeerAddress('0.0.0.0', 4200)).toBe('ignored');
  });
});

describe('gossip peer table: bounds (a flood must not exhaust memory nor multiply Hellos)', () => {
  it('takes at most maxPending unheard addresses, whatever the flood', () => {
    const { table } = makeTable({ maxPeers: 8, maxPending: 2 });
    for (let i = 1; i <= 10_000; i++) table.onPeerAddress(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 4000);
    expect(table.size).toBe(2);
    expect(table.onPeerAddress('10.9.9.9', 1)).toBe('refused');
  });

  it('never grows past maxPeers, and a full table of active peers refuses newcomers (stable peers first)', () => {
    const { clock, table } = makeTable({ maxPeers: 4, maxPending: 4 });
    for (let port = 1; port <= 4; port++) table.onHello('10.0.0.1', port);
    clock.now = 100;
    expect(table.onHello('10.0.0.2', 1)).toBe('refused');
    expect(table.onPeerAddress('10.0.0.3', 1)).toBe('refused');
    expect(table.size).toBe(4);
    expect(table.view().map((row) => row.port)).toEqual([1, 2, 3, 4]);
  });

  it('makes room for a Hello by evicting the least valuable peer that is not active', () => {
    const { clock, table } = makeTable({ maxPeers: 4, maxPending: 4 });
    table.addBootstrap('10.0.0.1', 1);
    table.onHello('10.0.0.1', 2);
    table.onPeerAddress('10.0.0.1', 3);
    clock.now = 10;
    table.onPeerAddress('10.0.0.1', 4);
    // Full: the oldest unheard non-bootstrap address goes first, then the newer one, then the bootstrap.
    expect(table.onHello('10.0.0.2', 1)).toBe('added');
    expect(table.get('10.0.0.1', 3)).toBeUndefined();
    expect(table.onHello('10.0.0.2', 2)).toBe('added');
    expect(table.get('10.0.0.1', 4)).toBeUndefined();
    expect(table.onHello('10.0.0.2', 3)).toBe('added');
    expect(table.get('10.0.0.1', 1)).toBeUndefined();
    expect(table.onHello('10.0.0.2', 4)).toBe('refused');
    expect(table.size).toBe(4);
  });

  it('takes Peer Addresses only while below its target of active peers, yet accepts Hellos up to the bound', () => {
    const { table } = makeTable({ maxPeers: 8, targetPeers: 3, maxPending: 4 });
    for (let port = 1; port <= 2; port++) table.onHello('10.0.0.1', port);
    expect(table.seeking()).toBe(true);
    // Pending peers do not count toward the target: up to maxPending are tried at once.
    for (let port = 1; port <= 5; port++) table.onPeerAddress('10.0.0.2', port);
    expect(table.view().filter((row) => row.state === 'pending')).toHaveLength(4);
    table.onHello('10.0.0.2', 1);
    expect(table.seeking()).toBe(false);
    expect(table.onPeerAddress('10.0.0.3', 1)).toBe('refused');
    // Newcomers that greet us are still welcome, up to maxPeers (they evict pending ones at the end).
    // 6 entries (3 active, 3 pending): 2 free slots, then the 3 pending ones make room.
    for (let port = 1; port <= 5; port++) expect(table.onHello('10.0.0.4', port)).toBe('added');
    expect(table.size).toBe(8);
    expect(table.activePeers()).toHaveLength(8);
    expect(table.onHello('10.0.0.4', 6)).toBe('refused');
  });

  it('answers a Peer Request with active peers only, most stable first', () => {
    const { clock, table } = makeTable();
    table.onHello('10.0.0.1', 2);
    clock.now = 1000;
    table.onHello('10.0.0.1', 1);
    table.onPeerAddress('10.0.0.1', 3);
    expect(table.activePeers().map((entry) => entry.port)).toEqual([2, 1]);
  });
});

describe('gossip peer table: requests and change tracking', () => {
  it('makes a new peer due a Peer Request at once, then every interval', () => {
    const { clock, table } = makeTable();
    table.onPeerAddress('10.0.0.1', 1);
    const entry = table.get('10.0.0.1', 1);
    if (!entry) throw new Error('missing entry');
    expect(table.takeRequestDue(entry, 10_000)).toBe(true);
    clock.now = 9999;
    expect(table.takeRequestDue(entry, 10_000)).toBe(false);
    clock.now = 10_000;
    expect(table.takeRequestDue(entry, 10_000)).toBe(true);
  });

  it('moves its version when a peer comes, goes or changes state, not on a mere refresh', () => {
    const { clock, table } = makeTable();
    let seen = table.version;
    const changed = () => {
      const moved = table.version !== seen;
      seen = table.version;
      return moved;
    };
    table.onPeerAddress('10.0.0.1', 1);
    expect(changed()).toBe(true);
    table.onHello('10.0.0.1', 1); // pending -> active
    expect(changed()).toBe(true);
    clock.now = 1000;
    table.onHello('10.0.0.1', 1);
    table.expire();
    expect(changed()).toBe(false);
    clock.now = 5001; // silent: active -> inactive, kept as the last one
    table.expire();
    expect(changed()).toBe(true);
    table.expire();
    expect(changed()).toBe(false);
  });
});

describe('gossip peer table: printed format', () => {
  it('prints a header and one sorted row per peer, and reads back', () => {
    const { clock, table } = makeTable();
    table.onHello('127.0.0.1', 10);
    table.onHello('127.0.0.1', 9);
    table.onPeerAddress('10.0.0.2', 4200);
    clock.now = 1250;
    table.onHello('127.0.0.1', 9);
    clock.now = 1500;
    const lines = formatPeerTable('0.0.0.0:4201', table.view());
    expect(lines).toEqual([
      'peers of 0.0.0.0:4201: 3 (2 active)',
      '  10.0.0.2:4200 pending age 1.5s stable 0.0s',
      '  127.0.0.1:9 active age 0.3s stable 1.5s',
      '  127.0.0.1:10 active age 1.5s stable 1.5s',
    ]);
    expect(parsePeerTable(lines)).toEqual({
      self: '0.0.0.0:4201',
      peers: new Map([
        ['10.0.0.2:4200', 'pending'],
        ['127.0.0.1:9', 'active'],
        ['127.0.0.1:10', 'active'],
      ]),
    });
    expect(formatPeerTable('127.0.0.1:5', [])).toEqual(['peers of 127.0.0.1:5: 0 (0 active)']);
  });
});

describe('gossip peer table: defaults, order and change tracking in detail', () => {
  it('targets half the table and caps pending addresses at a quarter, at least one each', () => {
    expect([32, 7, 3, 1].map(defaultTargetPeers)).toEqual([16, 3, 1, 1]);
    expect([32, 7, 3, 1].map(defaultMaxPending)).toEqual([8, 1, 1, 1]);
  });

  it('an address never heard from is pending for the timeout, then inactive', () => {
    const { clock, table, states } = makeTable();
    clock.now = 1000;
    table.onPeerAddress('10.0.0.1', 1);
    clock.now = 5000;
    expect(states()).toEqual({ '10.0.0.1:1': 'pending' });
    clock.now = 5001;
    expect(states()).toEqual({ '10.0.0.1:1': 'inactive' });
  });

  it('a known address is "known": its entry, and its state, stay as they are', () => {
    const { table, states } = makeTable();
    expect(table.addBootstrap('127.0.0.1', 4200)).toBe('added');
    table.onHello('127.0.0.1', 4200);
    expect(table.addBootstrap('127.0.0.1', 4200)).toBe('known');
    expect(table.onPeerAddress('127.0.0.1', 4200)).toBe('known');
    expect(table.size).toBe(1);
    expect(states()).toEqual({ '127.0.0.1:4200': 'active' });
  });

  it('its version only ever grows: on each peer added, evicted, removed or changing state', () => {
    const { clock, table } = makeTable({ maxPeers: 2, maxPending: 2 });
    const versions = [table.version];
    const step = () => versions.push(table.version);
    table.onPeerAddress('10.0.0.1', 1); // added
    step();
    table.onPeerAddress('10.0.0.1', 2); // added
    step();
    table.onHello('10.0.0.1', 1); // pending -> active
    step();
    table.onHello('10.0.0.2', 9); // evicts 10.0.0.1:2, then added
    step();
    clock.now = 5000; // both silent: inactive, kept (nothing active)
    table.expire();
    step();
    table.onHello('10.0.0.2', 9); // revived
    step();
    table.expire(); // 10.0.0.1:1 removed, 10.0.0.2:9 active
    step();
    for (let i = 1; i < versions.length; i++)
      expect(versions[i] as number, `step ${i}`).toBeGreaterThan(versions[i - 1] as number);
    expect(table.view().map((row) => row.port)).toEqual([9]);
  });

  it('a peer added by its Hello does not count as a change again when nothing changes', () => {
    const { table } = makeTable();
    table.onHello('10.0.0.1', 1);
    const version = table.version;
    table.expire();
    expect(table.version).toBe(version);
  });

  it('lists entries best first: active by longest run, then heard by latest Hello, the bootstrap, then the newest address', () => {
    const { clock, table } = makeTable({ maxPending: 4 });
    // Insertion order differs from worth everywhere, so the order below comes from the ranking.
    table.onPeerAddress('10.0.0.9', 1); // unheard, learned at 0
    table.addBootstrap('10.0.0.8', 1); // the bootstrap, at 0
    clock.now = 5;
    table.onPeerAddress('10.0.0.7', 1); // unheard, learned later
    clock.now = 10;
    table.onHello('10.0.0.6', 1); // heard at 10, then silent
    clock.now = 20;
    table.onHello('10.0.0.5', 1); // heard at 20, then silent
    clock.now = 1000;
    table.onHello('10.0.0.4', 1); // active since 1000
    clock.now = 4100;
    table.onHello('10.0.0.3', 1); // active since 4100
    table.onHello('10.0.0.4', 1);
    clock.now = 4200;
    expect(table.entries().map((entry) => entry.host)).toEqual([
      '10.0.0.4',
      '10.0.0.3',
      '10.0.0.5',
      '10.0.0.6',
      '10.0.0.8',
      '10.0.0.7',
      '10.0.0.9',
    ]);
    expect(table.activePeers().map((entry) => entry.host)).toEqual(['10.0.0.4', '10.0.0.3']);
  });

  it('keeps, when none is active, the peers heard most recently even if learned first', () => {
    const { clock, table } = makeTable({ minPeers: 1 });
    table.onHello('10.0.0.1', 1);
    clock.now = 100;
    table.onHello('10.0.0.2', 1);
    clock.now = 200;
    table.onHello('10.0.0.1', 1); // heard last
    clock.now = 10_000;
    expect(table.expire().map((entry) => entry.host)).toEqual(['10.0.0.2']);
  });

  it('evicts, among equals, the address learned first', () => {
    const { table } = makeTable({ maxPeers: 2, maxPending: 2 });
    table.onPeerAddress('10.0.0.1', 1);
    table.onPeerAddress('10.0.0.2', 1);
    expect(table.onHello('10.0.0.3', 1)).toBe('added');
    expect(table.get('10.0.0.1', 1)).toBeUndefined();
    expect(table.get('10.0.0.2', 1)).toBeDefined();
  });

  it('counts a peer gone silent as no longer active: the node looks for peers again', () => {
    const { clock, table } = makeTable({ targetPeers: 1, minPeers: 1 });
    table.onHello('10.0.0.1', 1);
    expect(table.seeking()).toBe(false);
    expect(table.onPeerAddress('10.0.0.2', 1)).toBe('refused');
    clock.now = 5000;
    table.expire(); // kept, inactive
    expect(table.seeking()).toBe(true);
    expect(table.onPeerAddress('10.0.0.2', 1)).toBe('added');
  });

  it('takes ports 1 to 65535 and first bytes 1 to 223', () => {
    expect(isUsableAddress('1.0.0.0', 65535)).toBe(true);
    expect(isUsableAddress('127.0.0.1', 65536)).toBe(false);
    expect(isUsableAddress('127.0.0.1', 1.5)).toBe(false);
    expect(isUsableAddress('224.0.0.1', 1)).toBe(false);
  });
});

describe('gossip peer table: the most stable peers first', () => {
  it('orders active peers by the start of their unbroken run, whatever the order they came in', () => {
    const { clock, table } = makeTable({ maxPending: 8 });
    // Learned in one order, active since times in another (one of them since 0).
    for (const host of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) table.onPeerAddress(host, 1);
    const activeSince: [string, number][] = [
      ['10.0.0.3', 0],
      ['10.0.0.1', 300],
      ['10.0.0.4', 600],
      ['10.0.0.2', 900],
    ];
    for (const [host, at] of activeSince) {
      clock.now = at;
      table.onHello(host, 1);
    }
    clock.now = 3000;
    for (const [host] of activeSince) table.onHello(host, 1);
    expect(table.activePeers().map((entry) => entry.host)).toEqual([
      '10.0.0.3',
      '10.0.0.1',
      '10.0.0.4',
      '10.0.0.2',
    ]);
    expect(table.entries().map((entry) => entry.host)).toEqual([
      '10.0.0.3',
      '10.0.0.1',
      '10.0.0.4',
      '10.0.0.2',
    ]);
  });
});
