/**
 * Random and mutated frames of the index protocol (docs/protocol.md, "Index protocol" and
 * "Discovery"), reproducibly: the same seed gives the same bytes. About a fifth are well-formed
 * requests of every type (JOINs with the attacker's own address among them, so it gets into the
 * index), the rest are requests with one field of the wrong type, size or content (unsafe names,
 * controls, bidi characters, lone surrogates, prototype keys), raw JSON tricks (duplicate and
 * `__proto__` keys, deep nesting), their bytes flipped, cut or spliced with invalid UTF-8, CR or
 * NUL, and junk. Once in a while a line past the server's 1 MiB bound (the connection is then
 * closed). Each frame ends with `\n` and may hold more: the server answers every line once.
 */
import { pickFrom, randomBytesFrom, randomIntFrom, seededRandom } from '../helpers/seed.ts';

/** The index server's bound on a line (MAX_INDEX_LINE_BYTES), newline excluded. */
export const INDEX_LINE_BOUND_BYTES = 1024 * 1024;
/** One frame in this many is a line past the bound. */
const OVERLONG_ONE_IN = 4000;

const TYPES = ['JOIN', 'SEARCH', 'UPDATE', 'ALIAS', 'LIST', 'QUERY', 'SET_FILES', 'CHAT', 'LEAVE', 'PING'];
/** Names a terminal, a path or Windows must never get as they are. */
const UNSAFE_NAMES = [
  '',
  '.',
  '..',
  '../../etc/passwd',
  'a/b.txt',
  'a\\b.txt',
  'C:evil.txt',
  'x.txt:stream',
  'CON',
  'nul.txt',
  'com1',
  'trailing.',
  'trailing ',
  'nul\u0000byte',
  'esc\u001b[2Jclear',
  'bell\u0007',
  'del\u007f',
  'c1\u009bcsi',
  'bidi\u202eexe.txt',
  'zero\u200bwidth',
  'bom\ufeff',
  'line\u2028sep',
  'new\nline',
  'cr\rreturn',
  'tab\tname',
  'lone\ud800surrogate',
  'low\udc00first',
  'x'.repeat(256),
  'é'.repeat(128),
];
/** Names that are fine, of every script and size, some colliding between attackers on purpose. */
const SAFE_PARTS = ['aula', 'vídeo', 'файл', '文件', 'ملف', '🎬', 'Ａｎａ', 'cafe\u0301', 'café', 'x'];
const ODD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  65536,
  2 ** 31,
  2 ** 53 + 2,
  1e308,
  -0,
  '',
  '0',
  '1099',
  '127.0.0.1',
  [],
  [null],
  [1, 2],
  {},
  { length: 5 },
  ['a', 1],
];
const INVALID_UTF8 = [
  [0xff],
  [0xfe],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
  [0xc3],
];

export class IndexFrameFuzzer {
  private readonly random: () => number;
  /** Frames made so far. */
  frames = 0;

  /** `ownIp`: the attacker's source address (JOINs with it are accepted, and join the index). */
  constructor(
    seed: number,
    private readonly ownIp: string,
  ) {
    this.random = seededRandom(seed);
  }

  /** The next frame: one or more lines, the last ending with `\n`. */
  next(): Buffer {
    this.frames++;
    if (this.random() * OVERLONG_ONE_IN < 1) return this.overlong();
    const roll = this.random();
    let bytes: Buffer;
    if (roll < 0.22) bytes = json(this.validRequest());
    else if (roll < 0.55) bytes = json(this.mutatedRequest());
    else if (roll < 0.65) bytes = Buffer.from(this.rawTrick(), 'utf8');
    else if (roll < 0.88) bytes = this.mutatedBytes(json(this.validRequest()));
    else bytes = this.junk();
    return Buffer.concat([bytes, NEWLINE]);
  }

  /** Whether a frame is a line past the bound (the server closes the connection after it). */
  static isOverlong(frame: Buffer): boolean {
    return frame.length > INDEX_LINE_BOUND_BYTES;
  }

  /** A well-formed request of a random type, with plausible (not always acceptable) values. */
  validRequest(): Record<string, unknown> {
    const type = this.pick(TYPES);
    switch (type) {
      case 'JOIN': {
        const join: Record<string, unknown> = {
          type,
          ip: this.random() < 0.8 ? this.ownIp : this.pick(['127.0.0.1', '10.0.0.1', '0.0.0.0', '224.0.0.1']),
          port: this.int(1, 65535),
          files: this.names(),
        };
        if (this.random() < 0.5) join.alias = this.alias();
        if (this.random() < 0.5) join.caps = this.random() < 0.8 ? ['INFO'] : ['INFO', 'X_FUTURE', 'INFO'];
        return join;
      }
      case 'SEARCH':
      case 'UPDATE':
      case 'QUERY':
        return { type, file: this.name() };
      case 'ALIAS':
        return { type, alias: this.alias() };
      case 'SET_FILES':
        return { type, files: this.names() };
      case 'CHAT':
        return { type, text: this.text() };
      default:
        return { type };
    }
  }

  /** A valid request with one field given a value it must not have, removed, or added. */
  private mutatedRequest(): Record<string, unknown> {
    const request = this.validRequest();
    const keys = Object.keys(request);
    const roll = this.random();
    const key =
      roll < 0.7 ? this.pick(keys) : this.pick(['ip', 'port', 'files', 'alias', 'caps', 'file', 'text']);
    if (roll < 0.1) delete request[key];
    else request[key] = this.wrongValue();
    return request;
  }

  private wrongValue(): unknown {
    switch (this.int(0, 7)) {
      case 0:
        return this.pick(ODD_VALUES);
      case 1:
        return this.pick(UNSAFE_NAMES);
      case 2:
        return [this.name(), this.pick(UNSAFE_NAMES)];
      case 3:
        return Array.from({ length: this.pick([17, 300, 10_001]) }, (_, i) => `n${i}`);
      case 4:
        return 'z'.repeat(this.pick([33, 4097, 70_000]));
      case 5:
        return this.nested(this.int(2, 200));
      case 6:
        return { __proto__: null, toString: 'x', valueOf: 1 };
      default:
        return this.pick(TYPES).toLowerCase();
    }
  }

  /** JSON text that JSON.stringify would never write. */
  private rawTrick(): string {
    const file = JSON.stringify(this.name());
    switch (this.int(0, 9)) {
      case 0:
        return `{"type":"SEARCH","type":"JOIN","ip":"${this.ownIp}","port":${this.int(1, 65535)},"files":[${file}]}`;
      case 1:
        return `{"__proto__":{"type":"JOIN"},"file":${file}}`;
      case 2:
        return `{"type":"SEARCH","file":${file},"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}`;
      case 3:
        return `{"type":"JOIN","ip":"${this.ownIp}","port":${this.int(1, 65535)},"files":{"__proto__":[${file}],"length":1}}`;
      case 4:
        return `{"type":"SEARCH","file":"\\ud800"}`;
      case 5:
        return `${'['.repeat(this.int(100, 20_000))}${']'.repeat(this.int(0, 100))}`;
      case 6:
        return `{"type":"JOIN","ip":"${this.ownIp}","port":1e3,"files":[]}`;
      case 7:
        return `{"type":"UPDATE","file":${file}} {"type":"LIST"}`;
      case 8:
        return `{"type":"CHAT","text":"\\u001b[2J\\u001b[31mred\\u202e","alias":"x"}`;
      default:
        return `{"type":"PING","n":${'9'.repeat(this.int(20, 400))}}`;
    }
  }

  /** The bytes of a frame flipped, cut, repeated or spliced with invalid UTF-8, CR, NUL or `\n`. */
  private mutatedBytes(data: Buffer): Buffer {
    const out = Buffer.from(data);
    const at = this.int(0, out.length);
    switch (this.int(0, 5)) {
      case 0:
        for (let i = this.int(1, 4); i > 0; i--) out[this.int(0, out.length - 1)] = this.int(0, 255);
        // A flipped byte may be a newline: the frame is then two lines, each answered.
        return out;
      case 1:
        return out.subarray(0, at);
      case 2:
        return Buffer.concat([out.subarray(0, at), Buffer.from(this.pick(INVALID_UTF8)), out.subarray(at)]);
      case 3:
        return Buffer.concat([
          out.subarray(0, at),
          Buffer.from(this.pick(['\r', '\0', '\n', '\r\n', '\u2028'])),
          out.subarray(at),
        ]);
      case 4:
        return Buffer.concat([out.subarray(0, at), out.subarray(this.int(0, at))]);
      default:
        return Buffer.concat([out, Buffer.from('\r')]);
    }
  }

  private junk(): Buffer {
    switch (this.int(0, 4)) {
      case 0:
        return this.bytes(this.int(0, 300));
      case 1:
        return Buffer.from(
          this.pick(['', ' ', '\t', '\r', 'null', '[]', '"JOIN"', '42', '{}', '{"type":1}']),
        );
      case 2:
        return json({ type: this.text() });
      case 3:
        return json({
          type: this.pick(['JOIN_OK', 'SEARCH_OK', 'ERROR', 'PROBE', 'PONG', 'CHAT_OK', '__proto__']),
        });
      default:
        return json(this.nested(this.int(1, 60)));
    }
  }

  private overlong(): Buffer {
    // A JOIN whose files never end, 1 MiB and a bit: the server says LINE_TOO_LONG and closes.
    const head = Buffer.from(`{"type":"JOIN","ip":"${this.ownIp}","port":9,"files":["`);
    return Buffer.concat([head, Buffer.alloc(INDEX_LINE_BOUND_BYTES + this.int(1, 4096), 'w'), NEWLINE]);
  }

  private names(): string[] {
    const count = this.random() < 0.95 ? this.int(0, 12) : this.int(100, 2000);
    return Array.from({ length: count }, () => this.name());
  }

  private name(): string {
    const roll = this.random();
    if (roll < 0.5) return `f${this.int(0, 300)}.bin`;
    if (roll < 0.85) return `${this.pick(SAFE_PARTS)}${this.int(0, 99)}.${this.pick(['mp4', 'txt', 'bin'])}`;
    if (roll < 0.95) return this.pick(UNSAFE_NAMES);
    return 'n'.repeat(this.int(250, 260));
  }

  private alias(): string {
    const roll = this.random();
    if (roll < 0.6) return `att${this.int(0, 50)}`;
    if (roll < 0.8) return this.pick(['Ana', 'ANA', 'Ａｎａ', 'ana', 'a'.repeat(32), 'a'.repeat(33)]);
    return this.pick(['has space', 'col:on', 'esc\u001b', 'rlo\u202e', '', 'zw\u200d']);
  }

  private text(): string {
    const roll = this.random();
    if (roll < 0.6) return `hello ${this.int(0, 1e6)}`;
    if (roll < 0.8) return this.pick(['\u001b[2J', 'a\u202eb', 'bell\u0007', '\ud800', 'line\nbreak', '']);
    return 't'.repeat(this.pick([4096, 4097, 10_000]));
  }

  private nested(depth: number): unknown {
    let value: unknown = this.name();
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

const NEWLINE = Buffer.from('\n');

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Lines in `bytes`: the server answers each once. */
export function lineCount(bytes: Buffer): number {
  let lines = 0;
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) lines++;
  return lines;
}
