/**
 * The registry keeps what it has: no takeovers of addresses or aliases, budgets that refuse
 * before anything changes, and the entry count the `maxEntries` budget relies on.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HolderIndex } from '../../server/holder-index.ts';
import {
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_FILES_PER_PEER,
  DEFAULT_MAX_NAME_BYTES_PER_PEER,
} from '../../server/index-budgets.ts';
import { HeldError, Registry } from '../../server/registry.ts';
import { isNapError } from '../../shared/errors.ts';

const isCode = (code: string) => (error: unknown) => isNapError(error) && error.code === code;

/** Everything a client can see of the index, to show a refusal changed nothing. */
async function view(registry: Registry, asker: number) {
  return {
    list: await registry.list(asker),
    snapshot: await registry.snapshot(),
    entries: registry.entries,
    holders: await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((file) => registry.query(asker, file))),
  };
}

describe('aliases are unique', () => {
  it('JOIN and ALIAS refuse an alias another connection has, ignoring case and width: ALIAS_TAKEN', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['a'], 'Ana');
    await registry.join(2, '127.0.0.1', 8777, ['b'], 'bob');
    const before = await view(registry, 2);
    for (const alias of ['Ana', 'ana', 'ANA', '\uff21\uff4e\uff41'])
      await expect(registry.join(3, '127.0.0.1', 8778, ['c'], alias)).rejects.toSatisfy(
        isCode('ALIAS_TAKEN'),
      );
    await expect(registry.setAlias(2, 'aNa')).rejects.toSatisfy(
      (error) => error instanceof HeldError && error.code === 'ALIAS_TAKEN' && error.holder === 1,
    );
    expect(await view(registry, 2)).toEqual(before);
    // Its owner may change its case; once it has left, the alias is free.
    await registry.setAlias(1, 'ANA');
    await registry.leave(1);
    await registry.setAlias(2, 'ana');
    expect((await registry.list(2)).map((peer) => peer.alias)).toEqual(['ana']);
  });

  it('a re-JOIN on the same connection keeps or changes its own alias', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, [], 'ana');
    await registry.join(1, '127.0.0.1', 8776, [], 'Ana');
    await registry.join(1, '127.0.0.1', 8776, [], 'anna');
    await registry.join(2, '127.0.0.1', 8777, [], 'ana'); // freed by the change
    expect((await registry.list(1)).map((peer) => peer.alias)).toEqual(['anna', 'ana']);
  });
});

describe('budgets', () => {
  it('has defaults that take 10,000 peers x 100 files, far below V8 Map limit', () => {
    const registry = new Registry();
    expect(registry.budgets).toEqual({
      maxPeers: 1000,
      maxFilesPerPeer: DEFAULT_MAX_FILES_PER_PEER,
      maxNameBytesPerPeer: DEFAULT_MAX_NAME_BYTES_PER_PEER,
      maxEntries: DEFAULT_MAX_ENTRIES,
    });
    expect(DEFAULT_MAX_FILES_PER_PEER).toBeGreaterThanOrEqual(100);
    expect(DEFAULT_MAX_ENTRIES).toBeGreaterThanOrEqual(10_000 * 100);
    expect(DEFAULT_MAX_ENTRIES).toBeLessThan(2 ** 24 / 4);
  });

  it('files per peer: JOIN, SET_FILES and UPDATE over it get TOO_MANY_FILES and change nothing', async () => {
    const registry = new Registry({ maxFilesPerPeer: 3 });
    await registry.join(1, '127.0.0.1', 8776, ['a', 'b']);
    const before = await view(registry, 1);
    await expect(registry.join(2, '127.0.0.1', 8777, ['c', 'd', 'e', 'f'])).rejects.toSatisfy(
      isCode('TOO_MANY_FILES'),
    );
    await expect(registry.join(1, '127.0.0.1', 8776, ['c', 'd', 'e', 'f'])).rejects.toSatisfy(
      isCode('TOO_MANY_FILES'),
    );
    await expect(registry.setFiles(1, ['c', 'd', 'e', 'f'])).rejects.toSatisfy(isCode('TOO_MANY_FILES'));
    expect(await view(registry, 1)).toEqual(before);
    await registry.update(1, 'c');
    await expect(registry.update(1, 'd')).rejects.toSatisfy(isCode('TOO_MANY_FILES'));
    await registry.update(1, 'c'); // already shared: not one more
    expect((await registry.snapshot())[0]?.files).toEqual(['a', 'b', 'c']);
    // A name listed twice counts once.
    await registry.join(2, '127.0.0.1', 8777, ['d', 'd', 'd', 'e', 'f']);
  });

  it('bytes of names per peer, in UTF-8: TOO_MANY_NAME_BYTES, nothing changed', async () => {
    const registry = new Registry({ maxNameBytesPerPeer: 6 });
    await registry.join(1, '127.0.0.1', 8776, ['ab', 'cd']);
    const before = await view(registry, 1);
    await expect(registry.join(2, '127.0.0.1', 8777, ['\u00e9\u00e9\u00e9', 'x'])).rejects.toSatisfy(
      isCode('TOO_MANY_NAME_BYTES'),
    );
    await expect(registry.setFiles(1, ['abcdefg'])).rejects.toSatisfy(isCode('TOO_MANY_NAME_BYTES'));
    await expect(registry.update(1, 'efg')).rejects.toSatisfy(isCode('TOO_MANY_NAME_BYTES'));
    expect(await view(registry, 1)).toEqual(before);
    await registry.update(1, 'ef');
    await registry.join(2, '127.0.0.1', 8777, ['\u00e9\u00e9\u00e9']);
  });

  it('entries in the whole index: INDEX_FULL for new names, nothing changed, others still served', async () => {
    const registry = new Registry({ maxEntries: 4 });
    await registry.join(1, '127.0.0.1', 8776, ['a', 'b']);
    await registry.join(2, '127.0.0.1', 8777, ['a']);
    const before = await view(registry, 1);
    await expect(registry.join(3, '127.0.0.1', 8778, ['c', 'd'])).rejects.toSatisfy(isCode('INDEX_FULL'));
    await expect(registry.setFiles(2, ['a', 'b', 'c'])).rejects.toSatisfy(isCode('INDEX_FULL'));
    await expect(registry.join(2, '127.0.0.1', 8777, ['a', 'b', 'c'])).rejects.toSatisfy(
      isCode('INDEX_FULL'),
    );
    expect(await view(registry, 1)).toEqual(before);
    // Within the budget, everyone is served: a re-JOIN with as many files, SEARCH, one more name.
    await registry.join(2, '127.0.0.1', 8777, ['e']);
    await registry.join(3, '127.0.0.1', 8778, ['c']);
    expect(registry.entries).toBe(4);
    await expect(registry.update(3, 'f')).rejects.toSatisfy(isCode('INDEX_FULL'));
    expect((await registry.search(3, 'a')).peers).toEqual(['127.0.0.1:8776']);
    await registry.leave(1);
    await registry.update(3, 'f');
    expect(registry.entries).toBe(3);
  });

  it('the entry count always equals the files of every entry', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            op: fc.constantFrom('join', 'update', 'setFiles', 'leave'),
            conn: fc.integer({ min: 1, max: 4 }),
            port: fc.integer({ min: 1, max: 3 }),
            files: fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 4 }),
          }),
          { maxLength: 40 },
        ),
        async (ops) => {
          const registry = new Registry({ maxEntries: 6, maxFilesPerPeer: 3 });
          await Promise.allSettled(
            ops.map(({ op, conn, port, files }) => {
              if (op === 'join') return registry.join(conn, '127.0.0.1', port, files);
              if (op === 'update') return registry.update(conn, files[0] ?? 'a');
              if (op === 'setFiles') return registry.setFiles(conn, files);
              return registry.leave(conn);
            }),
          );
          const snapshot = await registry.snapshot();
          expect(registry.entries).toBe(snapshot.reduce((sum, entry) => sum + entry.files.length, 0));
          expect(registry.entries).toBeLessThanOrEqual(6);
          for (const entry of snapshot) expect(entry.files.length).toBeLessThanOrEqual(3);
        },
      ),
    );
  });
});

describe('HolderIndex', () => {
  it('keeps holders in the order they got the name, one or many', () => {
    const index = new HolderIndex();
    index.add('a', 'p1');
    index.add('a', 'p1');
    expect(index.get('a')).toEqual(['p1']);
    index.add('a', 'p2');
    index.add('a', 'p3');
    expect(index.get('a')).toEqual(['p1', 'p2', 'p3']);
    index.remove('a', 'p1');
    index.remove('a', 'p3');
    expect(index.get('a')).toEqual(['p2']);
    index.add('a', 'p1');
    expect(index.get('a')).toEqual(['p2', 'p1']);
    index.remove('a', 'nobody');
    index.remove('a', 'p2');
    index.remove('a', 'p1');
    expect(index.get('a')).toEqual([]);
    expect(index.names).toBe(0);
    index.remove('gone', 'p1');
  });
});
