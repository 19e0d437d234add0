/**
 * The index store's contract, run against both stores (memory and Redis): what the registry
 * promises every index server — exact-name SEARCH in the order holders got a name, no takeovers
 * of addresses or aliases, budgets that refuse before anything changes, seed 002's side (LIST,
 * QUERY, SET_FILES, chat members), and an index that stays consistent under concurrent changes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexStore } from '../../server/store/index-store.ts';
import { HeldError } from '../../server/store/index-store.ts';
import { isNapError } from '../../shared/errors.ts';
import { storeKinds } from '../helpers/stores.ts';

const isCode = (code: string) => (error: unknown) => isNapError(error) && error.code === code;
const A = '127.0.0.1:8776';
const B = '127.0.0.1:9000';
const { kinds, start, stop } = storeKinds();
beforeAll(start);
afterAll(stop);

/** SEARCH's holders, whether the store answers at once or later. */
async function holders(store: IndexStore, asker: number, file: string): Promise<string[]> {
  return (await store.search(asker, file)).peers;
}

/** Everything a client can see of the index, to show a refusal changed nothing. */
async function view(store: IndexStore, asker: number) {
  return {
    list: await store.list(asker),
    snapshot: await store.snapshot(),
    counts: await store.counts(),
    holders: await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((file) => store.query(asker, file))),
  };
}

describe.each(kinds)('index store contract: $name', ({ make }) => {
  it('JOIN, SEARCH (exact name, in the order holders got it) and UPDATE', async () => {
    const store = await make();
    await store.join(1, '127.0.0.1', 8776, ['aula1.mp4', 'aula2.mp4']);
    await store.join(2, '127.0.0.1', 8777, []);
    await store.join(3, '127.0.0.1', 8778, ['aula1.mp4']);
    expect(await holders(store, 2, 'aula1.mp4')).toEqual(['127.0.0.1:8776', '127.0.0.1:8778']);
    expect(await holders(store, 2, 'aula1')).toEqual([]);
    expect(await holders(store, 2, 'AULA1.mp4')).toEqual([]);
    expect((await store.search(2, 'aula2.mp4')).requester).toBe('127.0.0.1:8777');
    await store.update(2, 'aula2.mp4');
    await store.update(2, 'aula2.mp4');
    expect(await holders(store, 1, 'aula2.mp4')).toEqual(['127.0.0.1:8776', '127.0.0.1:8777']);
    expect((await store.snapshot()).find((entry) => entry.port === 8777)?.files).toEqual(['aula2.mp4']);
    // The reply bytes are SEARCH_OK's, whichever store made them.
    const answer = await store.searchReply(2, 'aula1.mp4');
    expect(Buffer.from(answer.reply).toString()).toBe(
      '{"type":"SEARCH_OK","peers":["127.0.0.1:8776","127.0.0.1:8778"]}\n',
    );
    expect(Buffer.from((await store.searchReply(2, 'nobody')).reply).toString()).toBe(
      '{"type":"SEARCH_OK","peers":[]}\n',
    );
  });

  it('refuses every request but JOIN before JOIN with NOT_JOINED', async () => {
    const store = await make();
    const later = (run: () => unknown) => Promise.resolve().then(run);
    await expect(later(() => store.search(9, 'a'))).rejects.toSatisfy(isCode('NOT_JOINED'));
    await expect(later(() => store.searchReply(9, 'a'))).rejects.toSatisfy(isCode('NOT_JOINED'));
    await expect(store.update(9, 'a')).rejects.toSatisfy(isCode('NOT_JOINED'));
    await expect(store.list(9)).rejects.toSatisfy(isCode('NOT_JOINED'));
    await expect(store.query(9, 'a')).rejects.toSatisfy(isCode('NOT_JOINED'));
    await expect(store.setAlias(9, 'x')).rejects.toSatisfy(isCode('NOT_JOINED'));
    await expect(store.setFiles(9, [])).rejects.toSatisfy(isCode('NOT_JOINED'));
    await expect(store.chatRecipients(9)).rejects.toSatisfy(isCode('NOT_JOINED'));
  });

  it('a second JOIN replaces the peer; an address joined elsewhere is refused, naming its holder', async () => {
    const store = await make();
    await store.join(1, '127.0.0.1', 8776, ['a']);
    await store.join(1, '127.0.0.1', 9000, ['b']);
    expect(await holders(store, 1, 'a')).toEqual([]);
    expect(await holders(store, 1, 'b')).toEqual([B]);
    await store.join(2, '127.0.0.1', 9001, ['own']);
    const before = await view(store, 2);
    const refusal = await store.join(2, '127.0.0.1', 9000, ['c']).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(HeldError);
    expect(refusal).toMatchObject({ code: 'ADDRESS_IN_USE', holder: 1 });
    expect(await view(store, 2)).toEqual(before);
    await store.leave(1);
    await store.join(2, '127.0.0.1', 9000, ['c']);
    expect(await holders(store, 2, 'c')).toEqual([B]);
    expect(await holders(store, 2, 'own')).toEqual([]);
    expect(await store.leave(1)).toBeUndefined();
  });

  it('leave removes every entry of the peer', async () => {
    const store = await make();
    await store.join(1, '127.0.0.1', 8776, ['a', 'b'], 'ana');
    await store.join(2, '127.0.0.1', 8777, ['a']);
    expect((await store.leave(1))?.address).toBe(A);
    expect(await holders(store, 2, 'a')).toEqual(['127.0.0.1:8777']);
    expect(await holders(store, 2, 'b')).toEqual([]);
    expect(await store.counts()).toEqual({ peers: 1, entries: 1 });
    // Its alias is free again.
    await store.setAlias(2, 'ANA');
  });

  it('aliases are unique, ignoring case and width: ALIAS_TAKEN naming the holder, nothing changed', async () => {
    const store = await make();
    await store.join(1, '127.0.0.1', 8776, ['a'], 'Ana');
    await store.join(2, '127.0.0.1', 8777, ['b'], 'bob');
    const before = await view(store, 2);
    for (const alias of ['Ana', 'ana', 'ANA', '\uff21\uff4e\uff41'])
      await expect(store.join(3, '127.0.0.1', 8778, ['c'], alias)).rejects.toSatisfy(isCode('ALIAS_TAKEN'));
    await expect(store.setAlias(2, 'aNa')).rejects.toSatisfy(
      (error) => error instanceof HeldError && error.code === 'ALIAS_TAKEN' && error.holder === 1,
    );
    expect(await view(store, 2)).toEqual(before);
    await store.setAlias(1, 'ANA');
    await store.leave(1);
    await store.setAlias(2, 'ana');
    expect((await store.list(2)).map((peer) => peer.alias)).toEqual(['ana']);
    // A re-JOIN of the same connection keeps or changes its own alias.
    await store.join(2, '127.0.0.1', 8777, [], 'Ana');
    await store.join(2, '127.0.0.1', 8777, [], 'anna');
    await store.join(3, '127.0.0.1', 8778, [], 'ana');
    expect((await store.list(2)).map((peer) => peer.alias)).toEqual(['anna', 'ana']);
  });

  it('LIST in join order with aliases and file counts; QUERY with aliases; SET_FILES replaces', async () => {
    const store = await make();
    await store.join(1, '127.0.0.1', 8776, ['a', 'b'], 'tina');
    await store.join(2, '127.0.0.1', 8777, []);
    await store.setAlias(2, 'bob');
    await store.join(3, '127.0.0.1', 8778, ['a']);
    expect(await store.list(3)).toEqual([
      { address: A, fileCount: 2, alias: 'tina' },
      { address: '127.0.0.1:8777', fileCount: 0, alias: 'bob' },
      { address: '127.0.0.1:8778', fileCount: 1 },
    ]);
    expect(await store.query(2, 'a')).toEqual([{ address: A, alias: 'tina' }, { address: '127.0.0.1:8778' }]);
    expect(await store.query(2, 'A')).toEqual([]);
    await store.setFiles(1, ['b', 'new.mp4']);
    expect(await holders(store, 1, 'a')).toEqual(['127.0.0.1:8778']);
    expect(await holders(store, 1, 'new.mp4')).toEqual([A]);
    expect(await holders(store, 1, 'b')).toEqual([A]);
    await store.setFiles(1, []);
    expect((await store.list(1))[0]).toEqual({ address: A, fileCount: 0, alias: 'tina' });
  });

  it('chat goes to every other member (joined with an alias), never back to the sender', async () => {
    const store = await make();
    await store.join(1, '127.0.0.1', 8776, [], 'tina');
    await store.join(2, '127.0.0.1', 8777, [], 'bob');
    await store.join(3, '127.0.0.1', 8778, []);
    await store.join(4, '127.0.0.1', 8779, [], 'ana');
    const { sender, recipients, elsewhere } = await store.chatRecipients(1);
    expect(sender).toEqual({ alias: 'tina', address: A });
    expect(recipients).toEqual([2, 4]);
    expect(elsewhere).toBe(0);
    expect(await store.members()).toEqual([1, 2, 4]);
    await expect(store.chatRecipients(3)).rejects.toSatisfy(isCode('BAD_REQUEST'));
  });

  it('capabilities: SEARCH and holderCaps give those announced; a re-JOIN replaces them', async () => {
    const store = await make();
    await store.join(1, '127.0.0.1', 8776, ['a'], undefined, ['INFO']);
    await store.join(2, '127.0.0.1', 9000, ['a']);
    expect(await store.search(2, 'a')).toMatchObject({ peers: [A, B], caps: { [A]: ['INFO'] } });
    expect(await store.holderCaps([A, B])).toEqual({ [A]: ['INFO'] });
    await store.join(1, '127.0.0.1', 8776, ['a']);
    expect((await store.search(2, 'a')).caps).toEqual({});
  });

  it('SERVER_FULL for a newcomer past maxPeers; a re-JOIN still works', async () => {
    const store = await make({ maxPeers: 2 });
    await store.join(1, '127.0.0.1', 8776, []);
    await store.join(2, '127.0.0.1', 8777, []);
    await expect(store.join(3, '127.0.0.1', 8778, [])).rejects.toSatisfy(isCode('SERVER_FULL'));
    await store.join(1, '127.0.0.1', 9000, ['x']);
    expect((await store.counts()).peers).toBe(2);
    await store.leave(1);
    await store.join(4, '127.0.0.1', 8778, []);
    expect((await store.counts()).peers).toBe(2);
  });

  it('files per peer: TOO_MANY_FILES and nothing changed; a name listed twice counts once', async () => {
    const store = await make({ maxFilesPerPeer: 3 });
    await store.join(1, '127.0.0.1', 8776, ['a', 'b']);
    const before = await view(store, 1);
    await expect(store.join(2, '127.0.0.1', 8777, ['c', 'd', 'e', 'f'])).rejects.toSatisfy(
      isCode('TOO_MANY_FILES'),
    );
    await expect(store.join(1, '127.0.0.1', 8776, ['c', 'd', 'e', 'f'])).rejects.toSatisfy(
      isCode('TOO_MANY_FILES'),
    );
    await expect(store.setFiles(1, ['c', 'd', 'e', 'f'])).rejects.toSatisfy(isCode('TOO_MANY_FILES'));
    expect(await view(store, 1)).toEqual(before);
    await store.update(1, 'c');
    await expect(store.update(1, 'd')).rejects.toSatisfy(isCode('TOO_MANY_FILES'));
    await store.update(1, 'c');
    expect((await store.snapshot())[0]?.files).toEqual(['a', 'b', 'c']);
    await store.join(2, '127.0.0.1', 8777, ['d', 'd', 'd', 'e', 'f']);
  });

  it('bytes of names per peer, in UTF-8: TOO_MANY_NAME_BYTES, nothing changed', async () => {
    const store = await make({ maxNameBytesPerPeer: 6 });
    await store.join(1, '127.0.0.1', 8776, ['ab', 'cd']);
    const before = await view(store, 1);
    await expect(store.join(2, '127.0.0.1', 8777, ['\u00e9\u00e9\u00e9', 'x'])).rejects.toSatisfy(
      isCode('TOO_MANY_NAME_BYTES'),
    );
    await expect(store.setFiles(1, ['abcdefg'])).rejects.toSatisfy(isCode('TOO_MANY_NAME_BYTES'));
    await expect(store.update(1, 'efg')).rejects.toSatisfy(isCode('TOO_MANY_NAME_BYTES'));
    expect(await view(store, 1)).toEqual(before);
    await store.update(1, 'ef');
    await store.join(2, '127.0.0.1', 8777, ['\u00e9\u00e9\u00e9']);
    expect(await holders(store, 1, '\u00e9\u00e9\u00e9')).toEqual(['127.0.0.1:8777']);
  });

  it('entries in the whole index: INDEX_FULL for new names, nothing changed, others still served', async () => {
    const store = await make({ maxEntries: 4 });
    await store.join(1, '127.0.0.1', 8776, ['a', 'b']);
    await store.join(2, '127.0.0.1', 8777, ['a']);
    const before = await view(store, 1);
    await expect(store.join(3, '127.0.0.1', 8778, ['c', 'd'])).rejects.toSatisfy(isCode('INDEX_FULL'));
    await expect(store.setFiles(2, ['a', 'b', 'c'])).rejects.toSatisfy(isCode('INDEX_FULL'));
    await expect(store.join(2, '127.0.0.1', 8777, ['a', 'b', 'c'])).rejects.toSatisfy(isCode('INDEX_FULL'));
    expect(await view(store, 1)).toEqual(before);
    await store.join(2, '127.0.0.1', 8777, ['e']);
    await store.join(3, '127.0.0.1', 8778, ['c']);
    expect((await store.counts()).entries).toBe(4);
    await expect(store.update(3, 'f')).rejects.toSatisfy(isCode('INDEX_FULL'));
    expect(await holders(store, 3, 'a')).toEqual([A]);
    await store.leave(1);
    await store.update(3, 'f');
    expect((await store.counts()).entries).toBe(3);
  });

  it('names that look like other keys or wildcards are only names', async () => {
    const store = await make();
    const tricky = ['*', 'napshare:peers', 'p:127.0.0.1:8777', '{a}', '..', 'a b', '\u00e9t\u00e9.mp4'];
    await store.join(1, '127.0.0.1', 8776, tricky, 'a:b');
    await store.join(2, '127.0.0.1', 8777, ['plain']);
    for (const name of tricky) expect(await holders(store, 2, name)).toEqual([A]);
    expect(await holders(store, 2, 'plain')).toEqual(['127.0.0.1:8777']);
    expect(await holders(store, 2, 'p')).toEqual([]);
    expect(await store.counts()).toEqual({ peers: 2, entries: tricky.length + 1 });
    await store.leave(1);
    for (const name of tricky) expect(await holders(store, 2, name)).toEqual([]);
  });

  it('one change after another, any sequence: the store equals a model of the rules', async () => {
    await fc.assert(
      fc.asyncProperty(operations(40), async (ops) => {
        const store = await make({ maxEntries: 6, maxFilesPerPeer: 3 });
        const model = new Map<number, { address: string; files: string[] }>();
        for (const { op, conn, port, files } of ops) {
          const address = `127.0.0.1:${port}`;
          const outcome = await apply(store, op, conn, port, files).then(
            () => 'ok',
            (error: unknown) => (isNapError(error) ? error.code : String(error)),
          );
          const mine = model.get(conn);
          const unique = [...new Set(files)];
          const total = [...model.values()].reduce((sum, entry) => sum + entry.files.length, 0);
          if (op === 'join') {
            const held = [...model].some(([other, entry]) => other !== conn && entry.address === address);
            const entries = total - (mine?.files.length ?? 0) + unique.length;
            const expected = held
              ? 'ADDRESS_IN_USE'
              : unique.length > 3
                ? 'TOO_MANY_FILES'
                : entries > 6
                  ? 'INDEX_FULL'
                  : 'ok';
            expect(outcome).toBe(expected);
            if (expected === 'ok') model.set(conn, { address, files: unique });
          } else if (op === 'update') {
            const file = files[0] ?? 'a';
            const grows = mine !== undefined && !mine.files.includes(file);
            const expected = !mine
              ? 'NOT_JOINED'
              : !grows
                ? 'ok'
                : mine.files.length >= 3
                  ? 'TOO_MANY_FILES'
                  : total >= 6
                    ? 'INDEX_FULL'
                    : 'ok';
            expect(outcome).toBe(expected);
            if (expected === 'ok' && grows) mine.files.push(file);
          } else if (op === 'setFiles') {
            const entries = total - (mine?.files.length ?? 0) + unique.length;
            const expected = !mine
              ? 'NOT_JOINED'
              : unique.length > 3
                ? 'TOO_MANY_FILES'
                : entries > 6
                  ? 'INDEX_FULL'
                  : 'ok';
            expect(outcome).toBe(expected);
            if (expected === 'ok' && mine) mine.files = unique;
          } else {
            model.delete(conn);
          }
        }
        const snapshot = await store.snapshot();
        expect(
          new Map(
            snapshot.map((entry) => [entry.connection, { address: entry.address, files: entry.files }]),
          ),
        ).toEqual(model);
        await expectConsistent(store, 6, 3);
      }),
      { numRuns: 40 },
    );
  });

  it('changes started all at once from many connections leave a consistent index within budgets', async () => {
    await fc.assert(
      fc.asyncProperty(operations(40), async (ops) => {
        const store = await make({ maxEntries: 6, maxFilesPerPeer: 3 });
        await Promise.allSettled(ops.map(({ op, conn, port, files }) => apply(store, op, conn, port, files)));
        await expectConsistent(store, 6, 3);
      }),
      { numRuns: 40 },
    );
  });
});

function operations(maxLength: number) {
  return fc.array(
    fc.record({
      op: fc.constantFrom('join', 'update', 'setFiles', 'leave'),
      conn: fc.integer({ min: 1, max: 4 }),
      port: fc.integer({ min: 1, max: 3 }),
      files: fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 4 }),
    }),
    { maxLength },
  );
}

function apply(store: IndexStore, op: string, conn: number, port: number, files: string[]): Promise<unknown> {
  if (op === 'join') return store.join(conn, '127.0.0.1', port, files);
  if (op === 'update') return store.update(conn, files[0] ?? 'a');
  if (op === 'setFiles') return store.setFiles(conn, files);
  return store.leave(conn);
}

/** Entries, SEARCH and the budgets agree with the snapshot; no address twice. */
async function expectConsistent(store: IndexStore, maxEntries: number, maxFiles: number): Promise<void> {
  const snapshot = await store.snapshot();
  const counts = await store.counts();
  expect(counts.entries).toBe(snapshot.reduce((sum, entry) => sum + entry.files.length, 0));
  expect(counts.peers).toBe(snapshot.length);
  // The metrics' sizes, distinct names included, as of that read.
  expect(store.lastCounts()).toEqual({
    peers: snapshot.length,
    entries: counts.entries,
    names: new Set(snapshot.flatMap((entry) => entry.files)).size,
  });
  expect(counts.entries).toBeLessThanOrEqual(maxEntries);
  expect(new Set(snapshot.map((entry) => entry.address)).size).toBe(snapshot.length);
  for (const entry of snapshot) expect(entry.files.length).toBeLessThanOrEqual(maxFiles);
  const asker = snapshot[0]?.connection;
  if (asker === undefined) return;
  for (const file of ['a', 'b', 'c', 'd']) {
    const expected = snapshot.filter((entry) => entry.files.includes(file)).map((entry) => entry.address);
    expect(new Set(await holders(store, asker, file))).toEqual(new Set(expected));
  }
}
