/**
 * Random and mutated KRPC datagrams (BEP 5, BEP 44) for attacking a DHT node, reproducibly: the
 * same seed gives the same datagrams. A fifth are well-formed messages of every kind (the node
 * must go on answering those), the rest are those messages with one field of the wrong type,
 * length or range, or a field missing, their bytes flipped, cut or spliced, and plain junk (some
 * mutations leave a message well-formed: about 30% pass napshare's checks in all). Built
 * with the `bencode` package, independently of napshare's codec; tens of thousands a second.
 */
import bencode from 'bencode';
import { pickFrom, randomBytesFrom, randomIntFrom, seededRandom } from './seed.ts';

type Plain = Buffer | number | Plain[] | { [key: string]: Plain };

const METHODS = [
  'ping',
  'find_node',
  'get_peers',
  'announce_peer',
  'get',
  'put',
  'sample_infohashes',
  'vote',
];

export class KrpcFuzzer {
  private readonly random: () => number;

  constructor(readonly seed: number) {
    this.random = seededRandom(seed);
  }

  /** The next datagram. */
  next(): Buffer {
    const roll = this.random();
    if (roll < 0.2) return encode(this.validMessage());
    if (roll < 0.6) return encode(this.mutatedMessage());
    if (roll < 0.85) return this.mutatedBytes(encode(this.validMessage()));
    return this.random() < 0.5 ? this.bytes(this.int(0, 200)) : encode(this.randomValue(4));
  }

  /** `count` datagrams. */
  *take(count: number): Generator<Buffer> {
    for (let i = 0; i < count; i++) yield this.next();
  }

  /** A well-formed query, answer or error. */
  validMessage(): Record<string, Plain> {
    const roll = this.random();
    if (roll < 0.7) return this.validQuery();
    if (roll < 0.9) return { t: this.bytes(2), y: text('r'), r: this.answerValues() };
    return { t: this.bytes(2), y: text('e'), e: [this.pick([201, 202, 203, 204]), text('A Generic Error')] };
  }

  private validQuery(): Record<string, Plain> {
    const q = this.pick(METHODS);
    const a: Record<string, Plain> = { id: this.bytes(20) };
    switch (q) {
      case 'find_node':
      case 'get':
      case 'sample_infohashes':
        a.target = this.bytes(20);
        break;
      case 'get_peers':
        a.info_hash = this.bytes(20);
        break;
      case 'announce_peer':
        a.info_hash = this.bytes(20);
        a.port = this.int(1, 65535);
        a.token = this.bytes(this.int(1, 20));
        if (this.random() < 0.5) a.implied_port = this.int(0, 1);
        break;
      case 'put':
        a.token = this.bytes(this.int(1, 20));
        a.v = this.randomValue(2);
        if (this.random() < 0.5) {
          a.k = this.bytes(32);
          a.sig = this.bytes(64);
          a.seq = this.int(0, 1000);
          if (this.random() < 0.3) a.salt = this.bytes(this.int(0, 64));
          if (this.random() < 0.3) a.cas = this.int(0, 1000);
        }
        break;
    }
    return { t: this.bytes(this.int(1, 4)), y: text('q'), q: text(q), a };
  }

  private answerValues(): Record<string, Plain> {
    const r: Record<string, Plain> = { id: this.bytes(20) };
    if (this.random() < 0.5) r.nodes = this.bytes(26 * this.int(0, 8));
    if (this.random() < 0.5) r.token = this.bytes(this.int(1, 20));
    if (this.random() < 0.3) r.values = Array.from({ length: this.int(0, 10) }, () => this.bytes(6));
    if (this.random() < 0.2) {
      r.v = this.randomValue(2);
      r.k = this.bytes(32);
      r.sig = this.bytes(64);
      r.seq = this.int(0, 1000);
    }
    return r;
  }

  /** A valid message with one field replaced by a value of another type or size, or removed. */
  private mutatedMessage(): Record<string, Plain> {
    const message = this.validMessage();
    const inner = (message.a ?? message.r ?? message.e) as Record<string, Plain> | Plain[];
    const target = this.random() < 0.7 && !Array.isArray(inner) ? inner : message;
    const keys = Object.keys(target);
    const extraKeys = ['id', 'target', 'info_hash', 'port', 'token', 'implied_port', 'v', 'k', 'sig', 'seq'];
    const key = this.random() < 0.8 ? this.pick(keys) : this.pick(extraKeys);
    if (this.random() < 0.15) delete (target as Record<string, Plain>)[key];
    else (target as Record<string, Plain>)[key] = this.wrongValue();
    return message;
  }

  /** A value of any type, shape or size a field should not have. */
  private wrongValue(): Plain {
    switch (this.int(0, 9)) {
      case 0:
        return this.int(-5, 5);
      case 1:
        return this.pick([0, -1, 65536, 2 ** 31, 2 ** 53 + 2, 1e20]);
      case 2:
        return this.bytes(this.pick([0, 1, 2, 6, 19, 21, 26, 27, 31, 33, 63, 65, 100]));
      case 3:
        return [this.bytes(20)];
      case 4:
        return [];
      case 5:
        return { id: this.bytes(20) };
      case 6:
        return { ['__proto__']: { id: this.bytes(20) } };
      case 7:
        return this.nested(this.int(1, 40));
      case 8:
        return this.bytes(this.int(900, 1200));
      default:
        return this.randomValue(3);
    }
  }

  /** The bytes of a message flipped, cut, repeated or spliced with junk. */
  private mutatedBytes(data: Buffer): Buffer {
    const out = Buffer.from(data);
    switch (this.int(0, 4)) {
      case 0:
        for (let i = this.int(1, 4); i > 0; i--) out[this.int(0, out.length - 1)] = this.int(0, 255);
        return out;
      case 1:
        return out.subarray(0, this.int(0, out.length - 1));
      case 2: {
        const at = this.int(0, out.length);
        return Buffer.concat([out.subarray(0, at), this.bytes(this.int(1, 16)), out.subarray(at)]);
      }
      case 3: {
        const at = this.int(0, out.length);
        return Buffer.concat([out.subarray(0, at), out.subarray(this.int(0, at))]);
      }
      default:
        // A digit where the lengths are: strings that claim more, or less, than they hold.
        for (let i = 0; i < out.length; i++) if (out[i] === 0x3a && this.random() < 0.3) out[i - 1] = 0x39;
        return out;
    }
  }

  private randomValue(depth: number): Plain {
    const roll = depth <= 0 ? this.int(0, 1) : this.int(0, 3);
    if (roll === 0) return this.int(-1000, 1000);
    if (roll === 1) return this.bytes(this.int(0, 24));
    if (roll === 2) return Array.from({ length: this.int(0, 4) }, () => this.randomValue(depth - 1));
    const dict: Record<string, Plain> = {};
    for (let i = this.int(0, 4); i > 0; i--)
      dict[this.pick(['a', 'id', 'q', 't', 'v', 'x'])] = this.randomValue(depth - 1);
    return dict;
  }

  private nested(depth: number): Plain {
    let value: Plain = this.bytes(1);
    for (let i = 0; i < depth; i++) value = this.random() < 0.5 ? [value] : { a: value };
    return value;
  }

  private bytes(length: number): Buffer {
    return randomBytesFrom(this.random, length);
  }

  private int(min: number, max: number): number {
    return randomIntFrom(this.random, min, max);
  }

  private pick<T>(items: readonly T[]): T {
    return pickFrom(this.random, items);
  }
}

function text(value: string): Buffer {
  return Buffer.from(value, 'latin1');
}

function encode(value: Plain): Buffer {
  return Buffer.from(bencode.encode(value));
}
