/**
 * Three well-behaved peers of the index server that check every answer they get, exactly, while
 * an attack runs: each knows what the index must say about the names only they use (a prefix no
 * attacker knows), because only they change it. Two announce INFO and have aliases (they chat
 * with each other), the third is a course peer with neither. Each answer is timed (p99).
 */
import { isDeepStrictEqual } from 'node:util';
import { seededRandom } from '../helpers/seed.ts';
import { IndexSession, type Json } from './index-session.ts';
import { Row } from './report.ts';
import { Admission } from './target.ts';

interface GoodPeer {
  index: number;
  session: IndexSession;
  address: string;
  alias?: string;
  caps: boolean;
  /** Names nobody removes: the others search for these. */
  stable: string[];
  /** What the index must list for this peer now (only its own loop changes it). */
  files: string[];
  lastChatMs: number;
}

/** A peer chats at most this often: well under the server's chat rate (5 a second, bursts of 20). */
const CHAT_EVERY_MS = 500;

export class GoodPeers {
  latenciesMs: number[] = [];
  answers = 0;
  /** Whether the peers open new connections now (not while the server is full on purpose). */
  readonly admission = new Admission();
  private readonly peers: GoodPeer[] = [];
  private stopped = false;
  private serial = 0;

  private constructor(
    private readonly port: number,
    private readonly tag: string,
    /** The attack under way: wrong answers count against it. */
    public row: Row,
  ) {}

  /**
   * Joins three peers on 127.0.0.1 (ports from `firstPort`); `tag` makes their names unguessable.
   * Their answers count against `row` (run() sets another).
   */
  static async join(
    port: number,
    tag: string,
    firstPort: number,
    row = new Row('well-behaved peers'),
  ): Promise<GoodPeers> {
    const good = new GoodPeers(port, tag, row);
    for (let index = 0; index < 3; index++) {
      const session = await IndexSession.connect(port);
      const stable = [`good-${tag}-${index}-a.bin`, `good-${tag}-${index}-b.mp4`, `good-${tag}-shared.bin`];
      const peer: GoodPeer = {
        index,
        session,
        address: `127.0.0.1:${firstPort + index}`,
        caps: index < 2,
        stable,
        files: [...stable],
        lastChatMs: 0,
      };
      if (index < 2) peer.alias = `good${tag}${index}`;
      const join: Json = { type: 'JOIN', ip: '127.0.0.1', port: firstPort + index, files: stable };
      if (peer.alias) join.alias = peer.alias;
      if (peer.caps) join.caps = ['INFO'];
      const { reply } = await session.request(join);
      if (!isDeepStrictEqual(reply, { type: 'JOIN_OK' }))
        throw new Error(`a well-behaved peer could not join: ${brief(reply)}`);
      good.peers.push(peer);
    }
    return good;
  }

  /**
   * Runs every peer's loop until stop(), counting against `row`; rejects on the first answer that
   * does not come in time. Latencies and answers are counted afresh.
   */
  run(seed: number, row = this.row): Promise<void> {
    this.row = row;
    this.stopped = false;
    this.latenciesMs = [];
    this.answers = 0;
    // A peer whose request found no answer in time (or whose connection was closed) stops there,
    // counted wrong: the run goes on to its table rather than dying of an unhandled rejection.
    return Promise.all(
      this.peers.map((peer) =>
        this.loop(peer, seededRandom(seed + peer.index)).catch((error: unknown) =>
          this.row.wrongAnswer(
            `well-behaved peer ${peer.index} stopped: ${error instanceof Error ? error.message : String(error)}`,
          ),
        ),
      ),
    ).then(() => {});
  }

  stop(): void {
    this.stopped = true;
  }

  /** The latency under which 99% of the answers came, in ms. */
  p99(): number {
    const sorted = [...this.latenciesMs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Number.NaN;
  }

  /** One SEARCH of each stable name by each peer: the index still lists exactly what it should. */
  async checkAll(): Promise<void> {
    for (const peer of this.peers)
      for (const other of this.peers) for (const file of other.stable) await this.search(peer, file);
  }

  close(): void {
    for (const peer of this.peers) peer.session.close();
  }

  private async loop(peer: GoodPeer, random: () => number): Promise<void> {
    while (!this.stopped) {
      const roll = random();
      const other = this.peers[Math.floor(random() * this.peers.length)] as GoodPeer;
      if (roll < 0.35) await this.search(peer, other.stable[Math.floor(random() * 3)] as string);
      else if (roll < 0.45) await this.search(peer, `good-${this.tag}-missing-${this.serial++}.bin`);
      else if (roll < 0.55) await this.query(peer, other.stable[Math.floor(random() * 3)] as string);
      else if (roll < 0.67) await this.update(peer);
      else if (roll < 0.72) await this.setFiles(peer, random);
      else if (roll < 0.8) await this.list(peer);
      else if (roll < 0.92 && peer.alias && performance.now() - peer.lastChatMs > CHAT_EVERY_MS)
        await this.chat(peer);
      else if (!(await this.admission.newcomer(() => this.newcomer(peer))))
        await this.search(peer, other.stable[0] as string);
      this.checkPushes(peer);
    }
  }

  private holders(file: string): GoodPeer[] {
    return this.peers.filter((peer) => peer.files.includes(file)).sort(byAddress);
  }

  private capsOf(holders: GoodPeer[]): Json | undefined {
    const withCaps = holders.filter((peer) => peer.caps);
    return withCaps.length === 0
      ? undefined
      : Object.fromEntries(withCaps.map((peer) => [peer.address, ['INFO']]));
  }

  private async search(peer: GoodPeer, file: string): Promise<void> {
    const holders = this.holders(file);
    const expected: Json = { type: 'SEARCH_OK', peers: holders.map((holder) => holder.address) };
    const caps = this.capsOf(holders);
    if (caps) expected.caps = caps;
    await this.expect(peer, { type: 'SEARCH', file }, expected, (reply) => sortField(reply, 'peers'));
  }

  private async query(peer: GoodPeer, file: string): Promise<void> {
    const holders = this.holders(file);
    const expected: Json = {
      type: 'QUERY_OK',
      file,
      peers: holders.map((holder) =>
        holder.alias ? { address: holder.address, alias: holder.alias } : { address: holder.address },
      ),
    };
    const caps = this.capsOf(holders);
    if (caps) expected.caps = caps;
    await this.expect(peer, { type: 'QUERY', file }, expected, (reply) => sortField(reply, 'peers'));
  }

  private async update(peer: GoodPeer): Promise<void> {
    const file = `good-${this.tag}-${peer.index}-u${this.serial++}.bin`;
    await this.expect(peer, { type: 'UPDATE', file }, { type: 'UPDATE_OK' });
    peer.files.push(file);
    await this.search(peer, file);
  }

  private async setFiles(peer: GoodPeer, random: () => number): Promise<void> {
    const extra = peer.files.filter((file) => !peer.stable.includes(file));
    const kept = extra.filter(() => random() < 0.5);
    const dropped = extra.filter((file) => !kept.includes(file));
    const files = [...peer.stable, ...kept];
    await this.expect(peer, { type: 'SET_FILES', files }, { type: 'SET_FILES_OK', fileCount: files.length });
    peer.files = files;
    if (dropped[0]) await this.search(peer, dropped[0]);
  }

  private async list(peer: GoodPeer): Promise<void> {
    const reply = await this.ask(peer, { type: 'LIST' });
    const listed = Array.isArray(reply.peers) ? (reply.peers as Json[]) : [];
    this.row.check(
      reply.type === 'LIST_OK' && Array.isArray(reply.peers),
      () => `LIST answered ${brief(reply)}`,
    );
    for (const other of this.peers) {
      const entry = listed.find((item) => item.address === other.address);
      const expected: Json = { address: other.address, fileCount: other.files.length };
      if (other.alias) expected.alias = other.alias;
      // Another peer's count may change under way; its address and alias may not.
      const same =
        entry !== undefined &&
        entry.alias === other.alias &&
        (other !== peer || isDeepStrictEqual(entry, expected));
      this.row.check(same, () => `LIST by ${peer.address} shows ${other.address} as ${brief(entry)}`);
    }
  }

  private async chat(peer: GoodPeer): Promise<void> {
    const listener = this.peers.find((other) => other.alias && other !== peer) as GoodPeer;
    const text = `from ${peer.alias} #${this.serial++}`;
    peer.lastChatMs = performance.now();
    const reply = await this.ask(peer, { type: 'CHAT', text });
    this.row.check(
      reply.type === 'CHAT_OK' && typeof reply.delivered === 'number' && reply.delivered >= 1,
      () => `CHAT answered ${brief(reply)}`,
    );
    const push = await listener.session.push(
      (item) => item.type === 'CHAT' && item.text === text,
      `the chat "${text}"`,
    );
    this.row.check(
      isDeepStrictEqual(push, { type: 'CHAT', alias: peer.alias, from: peer.address, text }),
      () => `relayed as ${brief(push)}`,
    );
    listener.session.pushes.splice(listener.session.pushes.indexOf(push), 1);
  }

  /** A new connection from 127.0.0.1 joins, is found, and leaves: newcomers are let in. */
  private async newcomer(peer: GoodPeer): Promise<void> {
    const started = performance.now();
    const session = await IndexSession.connect(this.port);
    try {
      const port = 30_000 + (this.serial % 20_000);
      const file = `good-${this.tag}-new-${this.serial++}.bin`;
      const fresh: GoodPeer = {
        index: -1,
        session,
        address: `127.0.0.1:${port}`,
        caps: false,
        stable: [],
        files: [file],
        lastChatMs: 0,
      };
      await this.expect(fresh, { type: 'JOIN', ip: '127.0.0.1', port, files: [file] }, { type: 'JOIN_OK' });
      const search = await this.ask(peer, { type: 'SEARCH', file });
      this.row.check(
        isDeepStrictEqual(search, { type: 'SEARCH_OK', peers: [fresh.address] }),
        () => `a newcomer's file: ${brief(search)}`,
      );
    } finally {
      session.close();
      await session.closed;
    }
    this.latenciesMs.push(performance.now() - started);
  }

  /**
   * Pushes are CHAT, PEER_LEFT or PROBE with exactly their documented fields. The good peers' own
   * chats stay for the sender's check (chat()), which removes them.
   */
  private checkPushes(peer: GoodPeer): void {
    const aliases = this.peers.map((other) => other.alias);
    const pushes = peer.session.pushes;
    for (let i = pushes.length - 1; i >= 0; i--) {
      const push = pushes[i] as Json;
      if (push.type === 'CHAT' && aliases.includes(push.alias as string)) continue;
      pushes.splice(i, 1);
      this.row.check(wellFormedPush(push), () => `pushed ${brief(push)}`);
    }
    for (const line of peer.session.garbled.splice(0))
      this.row.wrongAnswer(`the server sent ${JSON.stringify(line.slice(0, 200))}`);
  }

  private async expect(
    peer: GoodPeer,
    request: Json,
    expected: Json,
    normalise: (reply: Json) => Json = (reply) => reply,
  ): Promise<void> {
    const reply = await this.ask(peer, request);
    this.row.check(
      isDeepStrictEqual(normalise(reply), expected),
      () => `${brief(request)} answered ${brief(reply)}, not ${brief(expected)}`,
    );
  }

  private async ask(peer: GoodPeer, request: Json): Promise<Json> {
    const { reply, ms } = await peer.session.request(request);
    this.latenciesMs.push(ms);
    this.answers++;
    return reply;
  }
}

function byAddress(a: GoodPeer, b: GoodPeer): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : 0;
}

/** `reply` with its `field` list in address order (the index keeps no order the protocol promises). */
function sortField(reply: Json, field: string): Json {
  const list = reply[field];
  if (!Array.isArray(list)) return reply;
  const key = (item: unknown) => (typeof item === 'string' ? item : String((item as Json).address));
  return { ...reply, [field]: [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)) };
}

const ADDRESS = /^(?:\d{1,3}\.){3}\d{1,3}:\d{1,5}$/;

function wellFormedPush(push: Json): boolean {
  const keys = Object.keys(push).sort().join(',');
  switch (push.type) {
    case 'CHAT':
      return (
        keys === 'alias,from,text,type' &&
        typeof push.alias === 'string' &&
        ADDRESS.test(String(push.from)) &&
        typeof push.text === 'string'
      );
    case 'PEER_LEFT':
      return (
        (keys === 'address,reason,type' || keys === 'address,alias,reason,type') &&
        ADDRESS.test(String(push.address)) &&
        ['left', 'closed', 'timeout'].includes(String(push.reason))
      );
    default:
      return keys === 'type';
  }
}

export function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
