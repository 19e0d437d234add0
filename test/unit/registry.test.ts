import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeldError, Registry } from '../../server/registry.ts';
import { isNapError } from '../../shared/errors.ts';
import { asyncRefusalOf, refusalOf } from '../helpers/error-code.ts';

/** The same SEARCH outcome: NOT_JOINED, or the same holders (as a set). */
function sameResult(a: string[] | 'NOT_JOINED', b: string[] | 'NOT_JOINED'): boolean {
  if (a === 'NOT_JOINED' || b === 'NOT_JOINED') return a === b;
  return a.length === b.length && a.every((address) => b.includes(address));
}

describe('Registry', () => {
  it('JOIN, SEARCH (exact name, join order) and UPDATE', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['aula1.mp4', 'aula2.mp4']);
    await registry.join(2, '127.0.0.1', 8777, []);
    await registry.join(3, '127.0.0.1', 8778, ['aula1.mp4']);
    expect((await registry.search(2, 'aula1.mp4')).peers).toEqual(['127.0.0.1:8776', '127.0.0.1:8778']);
    expect((await registry.search(2, 'aula1')).peers).toEqual([]);
    expect((await registry.search(2, 'AULA1.mp4')).peers).toEqual([]);
    expect((await registry.search(2, 'aula2.mp4')).requester).toBe('127.0.0.1:8777');
    await registry.update(2, 'aula2.mp4');
    await registry.update(2, 'aula2.mp4');
    expect((await registry.search(1, 'aula2.mp4')).peers).toEqual(['127.0.0.1:8776', '127.0.0.1:8777']);
    expect((await registry.snapshot()).find((entry) => entry.port === 8777)?.files).toEqual(['aula2.mp4']);
  });

  it('refuses SEARCH and UPDATE before JOIN with NOT_JOINED', async () => {
    const registry = new Registry();
    expect(() => registry.search(9, 'a')).toThrow(expect.objectContaining({ code: 'NOT_JOINED' }));
    expect(() => registry.searchReply(9, 'a')).toThrow(expect.objectContaining({ code: 'NOT_JOINED' }));
    await expect(registry.update(9, 'a')).rejects.toSatisfy((error) => isNapError(error, 'NOT_JOINED'));
  });

  it('a second JOIN replaces the peer; an address joined elsewhere is refused, naming its holder', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['a']);
    await registry.join(1, '127.0.0.1', 9000, ['b']);
    expect((await registry.search(1, 'a')).peers).toEqual([]);
    expect((await registry.search(1, 'b')).peers).toEqual(['127.0.0.1:9000']);
    await registry.join(2, '127.0.0.1', 9001, ['own']);
    const refusal = await registry.join(2, '127.0.0.1', 9000, ['c']).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(HeldError);
    expect(refusal).toMatchObject({ code: 'ADDRESS_IN_USE', holder: 1 });
    // Nothing changed: the holder keeps its entry, the refused connection keeps its own.
    expect((await registry.search(2, 'b')).peers).toEqual(['127.0.0.1:9000']);
    expect((await registry.search(1, 'own')).peers).toEqual(['127.0.0.1:9001']);
    expect((await registry.search(1, 'c')).peers).toEqual([]);
    // Once the holder has left, the address is free.
    await registry.leave(1);
    await registry.join(2, '127.0.0.1', 9000, ['c']);
    expect((await registry.search(2, 'c')).peers).toEqual(['127.0.0.1:9000']);
    expect(await registry.leave(1)).toBeUndefined();
  });

  it('leave removes every entry of the peer', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['a', 'b']);
    await registry.join(2, '127.0.0.1', 8777, ['a']);
    expect((await registry.leave(1))?.address).toBe('127.0.0.1:8776');
    expect((await registry.search(2, 'a')).peers).toEqual(['127.0.0.1:8777']);
    expect((await registry.search(2, 'b')).peers).toEqual([]);
    expect(registry.size).toBe(1);
  });

  it('concurrent JOIN/UPDATE/SEARCH/leave from many peers keep the index consistent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            op: fc.constantFrom('join', 'update', 'search', 'leave'),
            conn: fc.integer({ min: 1, max: 6 }),
            port: fc.integer({ min: 1, max: 4 }),
            file: fc.constantFrom('a', 'b', 'c', 'd'),
            // Let the changes queued so far run before this operation starts.
            pause: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        async (ops) => {
          const registry = new Registry();
          // Changes are started without waiting: the mutex must serialise them in call order.
          // A SEARCH reads at once, without the mutex: what it sees must be the index after
          // some prefix of the changes started before it, never a change half done, and never
          // an older prefix than an earlier SEARCH saw.
          const pending: Promise<unknown>[] = [];
          const seen: {
            changesBefore: number;
            conn: number;
            file: string;
            peers: string[] | 'NOT_JOINED';
          }[] = [];
          let changes = 0;
          for (const { op, conn, port, file, pause } of ops) {
            if (pause) await new Promise((resolve) => setImmediate(resolve));
            if (op === 'search') {
              try {
                seen.push({ changesBefore: changes, conn, file, peers: registry.search(conn, file).peers });
              } catch (error) {
                expect(isNapError(error, 'NOT_JOINED')).toBe(true);
                seen.push({ changesBefore: changes, conn, file, peers: 'NOT_JOINED' });
              }
              continue;
            }
            changes++;
            const change =
              op === 'join'
                ? registry.join(conn, '127.0.0.1', port, [file])
                : op === 'update'
                  ? registry.update(conn, file)
                  : registry.leave(conn);
            // Refusals (NOT_JOINED, ADDRESS_IN_USE) are part of the run; the model replays them.
            pending.push(change.catch(() => undefined));
          }
          await Promise.all(pending);
          // Replay the changes sequentially on a model, keeping the state after each prefix.
          const model = new Map<number, { address: string; files: string[] }>();
          const states = [structuredClone(model)];
          for (const { op, conn, port, file } of ops) {
            if (op === 'search') continue;
            const address = `127.0.0.1:${port}`;
            if (op === 'join') {
              // An address another connection holds is refused; the holder keeps it.
              const held = [...model].some(([other, entry]) => other !== conn && entry.address === address);
              if (!held) model.set(conn, { address, files: [file] });
            } else if (op === 'update') {
              const entry = model.get(conn);
              if (entry && !entry.files.includes(file)) entry.files.push(file);
            } else {
              model.delete(conn);
            }
            states.push(structuredClone(model));
          }
          const searchIn = (state: typeof model, conn: number, file: string) =>
            state.has(conn)
              ? [...state.values()]
                  .filter((entry) => entry.files.includes(file))
                  .map((entry) => entry.address)
              : 'NOT_JOINED';
          let earliest = 0;
          for (const { changesBefore, conn, file, peers } of seen) {
            let prefix = earliest;
            while (
              prefix <= changesBefore &&
              !sameResult(searchIn(states[prefix] as typeof model, conn, file), peers)
            )
              prefix++;
            expect(prefix, `SEARCH ${file} by ${conn} saw ${JSON.stringify(peers)}`).toBeLessThanOrEqual(
              changesBefore,
            );
            earliest = prefix;
          }
          const snapshot = await registry.snapshot();
          expect(
            new Map(
              snapshot.map((entry) => [entry.connection, { address: entry.address, files: entry.files }]),
            ),
          ).toEqual(model);
          // SEARCH agrees with the entries for every file, and in the order they got it.
          const anyConn = snapshot[0]?.connection;
          if (anyConn !== undefined) {
            for (const file of ['a', 'b', 'c', 'd']) {
              const holders = snapshot
                .filter((entry) => entry.files.includes(file))
                .map((entry) => entry.address);
              expect(new Set(registry.search(anyConn, file).peers)).toEqual(new Set(holders));
            }
          }
        },
      ),
    );
  });
});

describe('Registry: what each operation returns, and its refusals in words', () => {
  it('JOIN returns a copy of the entry, with alias and caps keys only when given', async () => {
    const registry = new Registry();
    const first = await registry.join(1, '127.0.0.1', 8776, ['a', 'a', 'b']);
    expect(first).toStrictEqual({
      address: '127.0.0.1:8776',
      ip: '127.0.0.1',
      port: 8776,
      files: ['a', 'b'],
      nameBytes: 2,
      connection: 1,
    });
    first.files.push('not really');
    const again = await registry.join(1, '127.0.0.1', 8776, [], 'tina', ['INFO']);
    expect(again).toStrictEqual({
      address: '127.0.0.1:8776',
      ip: '127.0.0.1',
      port: 8776,
      files: [],
      nameBytes: 0,
      connection: 1,
      alias: 'tina',
      caps: ['INFO'],
    });
    expect((await registry.search(1, 'a')).peers).toEqual([]);
  });

  it('ALIAS, UPDATE and SET_FILES answer with the address (and the new count)', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['a']);
    expect(await registry.setAlias(1, 'bob')).toBe('127.0.0.1:8776');
    expect(await registry.update(1, 'b')).toBe('127.0.0.1:8776');
    expect(await registry.setFiles(1, ['x', 'y', 'x'])).toStrictEqual({
      address: '127.0.0.1:8776',
      fileCount: 2,
    });
    expect((await registry.snapshot())[0]).toMatchObject({ alias: 'bob', files: ['x', 'y'] });
  });

  it("CHAT's sender is its alias and address", async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['a'], 'tina');
    expect((await registry.chatRecipients(1)).sender).toStrictEqual({
      alias: 'tina',
      address: '127.0.0.1:8776',
    });
  });

  it('refuses in one sentence each: full, not joined, chat without an alias', async () => {
    const registry = new Registry({ maxPeers: 2 });
    await registry.join(1, '127.0.0.1', 8776, []);
    await registry.join(2, '127.0.0.1', 8777, []);
    expect(await asyncRefusalOf(() => registry.join(3, '127.0.0.1', 8778, []))).toMatch(/^SERVER_FULL: /);
    expect(refusalOf(() => registry.search(9, 'a'))).toBe(
      'NOT_JOINED: JOIN first: this connection has not joined the index.',
    );
    expect(await asyncRefusalOf(() => registry.chatRecipients(1))).toBe(
      'BAD_REQUEST: CHAT needs an alias: send ALIAS (or JOIN with one) first.',
    );
  });
});

describe('Registry: bounded by who is joined now', () => {
  it('forgets a file name with its last holder: by leave, re-JOIN or SET_FILES', async () => {
    const registry = new Registry();
    const names = (prefix: string) => Array.from({ length: 100 }, (_, i) => `${prefix}-${i}.bin`);
    for (let round = 0; round < 5; round++) {
      await registry.join(1, '127.0.0.1', 8776, names(`left${round}`));
      await registry.leave(1);
    }
    expect(registry.indexedNames).toBe(0);
    await registry.join(1, '127.0.0.1', 8776, names('first'));
    await registry.join(1, '127.0.0.1', 8776, names('second'));
    expect(registry.indexedNames).toBe(100);
    await registry.setFiles(1, ['only.bin']);
    expect(registry.indexedNames).toBe(1);
    await registry.join(2, '127.0.0.1', 8777, ['only.bin', 'other.bin']);
    await registry.leave(1); // only.bin stays, held by 8777
    expect(registry.indexedNames).toBe(2);
    expect((await registry.search(2, 'only.bin')).peers).toEqual(['127.0.0.1:8777']);
    await registry.leave(2);
    expect(registry.indexedNames).toBe(0);
    expect(registry.entries).toBe(0);
  });
});

describe('Registry: SEARCH as the server answers it (searchReply)', () => {
  /** The reply's bytes as the one line they are, parsed. */
  function lineOf(reply: Uint8Array): unknown {
    const text = Buffer.from(reply).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.indexOf('\n')).toBe(text.length - 1);
    return JSON.parse(text);
  }

  it('answers SEARCH_OK lines: nobody, one holder with its caps, several in join order', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['solo.bin', 'both.bin'], undefined, ['INFO']);
    await registry.join(2, '127.0.0.1', 8777, ['both.bin']);
    const nobody = registry.searchReply(2, 'nobody.bin');
    expect(nobody.requester).toBe('127.0.0.1:8777');
    expect(Buffer.from(nobody.reply).toString('utf8')).toBe('{"type":"SEARCH_OK","peers":[]}\n');
    expect(lineOf(registry.searchReply(2, 'solo.bin').reply)).toStrictEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:8776'],
      caps: { '127.0.0.1:8776': ['INFO'] },
    });
    const both = registry.searchReply(1, 'both.bin');
    expect(both.requester).toBe('127.0.0.1:8776');
    expect(lineOf(both.reply)).toStrictEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:8776', '127.0.0.1:8777'],
      caps: { '127.0.0.1:8776': ['INFO'] },
    });
    // A holder without caps alone: no caps key at all.
    await registry.join(3, '127.0.0.1', 8778, ['plain.bin']);
    expect(Buffer.from(registry.searchReply(1, 'plain.bin').reply).toString('utf8')).toBe(
      '{"type":"SEARCH_OK","peers":["127.0.0.1:8778"]}\n',
    );
  });

  it('answers the same as search() for every name, whatever changed in between', async () => {
    const registry = new Registry();
    const check = (name: string) => {
      const { peers, caps } = registry.search(1, name);
      const expected =
        Object.keys(caps).length === 0 ? { type: 'SEARCH_OK', peers } : { type: 'SEARCH_OK', peers, caps };
      expect(lineOf(registry.searchReply(1, name).reply)).toStrictEqual(expected);
    };
    await registry.join(1, '127.0.0.1', 8776, ['a', 'b']);
    await registry.join(2, '127.0.0.1', 8777, ['a'], undefined, ['INFO']);
    for (const name of ['a', 'b', 'c']) check(name);
    await registry.join(3, '127.0.0.1', 8778, ['a']);
    check('a');
    await registry.update(2, 'b');
    check('b');
    await registry.setFiles(1, ['c']);
    for (const name of ['a', 'b', 'c']) check(name);
    await registry.leave(2);
    for (const name of ['a', 'b', 'c']) check(name);
  });

  it('keeps the line of a name with several holders until they change', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['a']);
    await registry.join(2, '127.0.0.1', 8777, ['a']);
    const first = registry.searchReply(1, 'a').reply;
    // Asked again: the kept line itself, not one encoded again.
    expect(registry.searchReply(2, 'a').reply).toBe(first);
    await registry.join(3, '127.0.0.1', 8778, ['a']);
    const changed = registry.searchReply(1, 'a').reply;
    expect(changed).not.toBe(first);
    expect(lineOf(changed)).toStrictEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:8776', '127.0.0.1:8777', '127.0.0.1:8778'],
    });
    await registry.leave(1);
    expect(lineOf(registry.searchReply(2, 'a').reply)).toStrictEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:8777', '127.0.0.1:8778'],
    });
  });
});

describe('Registry: the details a refactor must keep', () => {
  it('refuses a held address and a taken alias in the sentences protocol.md shows', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, [], 'Ana');
    expect(await asyncRefusalOf(() => registry.join(2, '127.0.0.1', 8776, []))).toBe(
      'ADDRESS_IN_USE: Another peer is joined as 127.0.0.1:8776 and still connected; JOIN with another port.',
    );
    expect(await asyncRefusalOf(() => registry.join(2, '127.0.0.1', 8777, [], 'ANA'))).toBe(
      'ALIAS_TAKEN: The alias "ANA" is taken by another peer (aliases ignore case and width); choose another.',
    );
  });

  it('an empty caps list at JOIN is no caps: no key in the entry, nothing in SEARCH', async () => {
    const registry = new Registry();
    const entry = await registry.join(1, '127.0.0.1', 8776, ['a'], undefined, []);
    expect('caps' in entry).toBe(false);
    expect(registry.search(1, 'a').caps).toStrictEqual({});
    expect(await registry.holderCaps(['127.0.0.1:8776'])).toStrictEqual({});
  });

  it('holderCaps skips addresses no longer joined', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['a'], undefined, ['INFO']);
    expect(await registry.holderCaps(['127.0.0.1:9999', '127.0.0.1:8776'])).toStrictEqual({
      '127.0.0.1:8776': ['INFO'],
    });
  });

  it('a new alias frees the old one for others', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, [], 'bob');
    await registry.join(2, '127.0.0.1', 8777, []);
    await registry.setAlias(1, 'rob');
    expect(await registry.setAlias(2, 'bob')).toBe('127.0.0.1:8777');
    expect(await asyncRefusalOf(() => registry.setAlias(2, 'ROB'))).toMatch(/^ALIAS_TAKEN: /);
  });

  it('SET_FILES counts the entries it replaces out of maxEntries', async () => {
    const registry = new Registry({ maxEntries: 4 });
    await registry.join(1, '127.0.0.1', 8776, ['a', 'b']);
    await registry.join(2, '127.0.0.1', 8777, ['c', 'd']);
    // 4 - 2 + 2: at the budget, not over it.
    expect(await registry.setFiles(1, ['e', 'f'])).toStrictEqual({ address: '127.0.0.1:8776', fileCount: 2 });
    expect(await asyncRefusalOf(() => registry.setFiles(1, ['e', 'f', 'g']))).toMatch(/^INDEX_FULL: /);
    expect(registry.entries).toBe(4);
  });
});
