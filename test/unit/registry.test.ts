import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../server/registry.ts';
import { isNapError } from '../../shared/errors.ts';
import { asyncRefusalOf } from '../helpers/error-code.ts';

describe('Registry', () => {
  it('JOIN, SEARCH (exact name, join order) and UPDATE', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['aula1.mp4', 'aula2.mp4']);
    await registry.join(2, '127.0.0.1', 8777, []);
    await registry.join(3, '127.0.0.1', 8778, ['aula1.mp4']);
    expect((await registry.search(2, 'aula1.mp4')).peers).toEqual(['127.0.0.1:8776', '127.0.0.1:8778']);
    expect((await registry.search(2, 'aula1')).peers).toEqual([]);
    expect((await registry.search(2, 'AULA1.mp4')).peers).toEqual([]);
    expect((await registry.search(2, 'aula2.mp4')).requester.address).toBe('127.0.0.1:8777');
    await registry.update(2, 'aula2.mp4');
    await registry.update(2, 'aula2.mp4');
    expect((await registry.search(1, 'aula2.mp4')).peers).toEqual(['127.0.0.1:8776', '127.0.0.1:8777']);
    expect((await registry.snapshot()).find((entry) => entry.port === 8777)?.files).toEqual(['aula2.mp4']);
  });

  it('refuses SEARCH and UPDATE before JOIN with NOT_JOINED', async () => {
    const registry = new Registry();
    await expect(registry.search(9, 'a')).rejects.toSatisfy((error) => isNapError(error, 'NOT_JOINED'));
    await expect(registry.update(9, 'a')).rejects.toSatisfy((error) => isNapError(error, 'NOT_JOINED'));
  });

  it('a second JOIN replaces the peer; an address joined elsewhere is taken over', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['a']);
    await registry.join(1, '127.0.0.1', 9000, ['b']);
    expect((await registry.search(1, 'a')).peers).toEqual([]);
    expect((await registry.search(1, 'b')).peers).toEqual(['127.0.0.1:9000']);
    const { displaced } = await registry.join(2, '127.0.0.1', 9000, ['c']);
    expect(displaced).toBe(1);
    expect((await registry.search(2, 'b')).peers).toEqual([]);
    await expect(registry.search(1, 'c')).rejects.toSatisfy((error) => isNapError(error, 'NOT_JOINED'));
    // The displaced connection closing must not remove the new owner's entries.
    expect(await registry.leave(1)).toBeUndefined();
    expect((await registry.search(2, 'c')).peers).toEqual(['127.0.0.1:9000']);
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
          }),
          { maxLength: 60 },
        ),
        async (ops) => {
          const registry = new Registry();
          // All operations are started at once: the mutex must serialise them in call order.
          await Promise.allSettled(
            ops.map(({ op, conn, port, file }) => {
              switch (op) {
                case 'join':
                  return registry.join(conn, '127.0.0.1', port, [file]);
                case 'update':
                  return registry.update(conn, file);
                case 'search':
                  return registry.search(conn, file);
                default:
                  return registry.leave(conn);
              }
            }),
          );
          // Replay sequentially on a model: same final state.
          const model = new Map<number, { address: string; files: string[] }>();
          for (const { op, conn, port, file } of ops) {
            const address = `127.0.0.1:${port}`;
            if (op === 'join') {
              for (const [other, entry] of model) if (entry.address === address) model.delete(other);
              model.set(conn, { address, files: [file] });
            } else if (op === 'update') {
              const entry = model.get(conn);
              if (entry && !entry.files.includes(file)) entry.files.push(file);
            } else if (op === 'leave') {
              model.delete(conn);
            }
          }
          const snapshot = await registry.snapshot();
          expect(
            new Map(
              snapshot.map((entry) => [entry.connection, { address: entry.address, files: entry.files }]),
            ),
          ).toEqual(model);
          // SEARCH agrees with the entries for every file.
          const anyConn = snapshot[0]?.connection;
          if (anyConn !== undefined) {
            for (const file of ['a', 'b', 'c', 'd']) {
              const holders = snapshot
                .filter((entry) => entry.files.includes(file))
                .map((entry) => entry.address);
              expect(new Set((await registry.search(anyConn, file)).peers)).toEqual(new Set(holders));
            }
          }
        },
      ),
    );
  });
});

describe('Registry: what each operation returns, and its refusals in words', () => {
  it('JOIN returns the entry, and the connection it displaced only when there was one', async () => {
    const registry = new Registry();
    const first = await registry.join(1, '127.0.0.1', 8776, ['a', 'a', 'b']);
    expect(first).toStrictEqual({
      entry: { address: '127.0.0.1:8776', ip: '127.0.0.1', port: 8776, files: ['a', 'b'], connection: 1 },
    });
    const second = await registry.join(2, '127.0.0.1', 8776, [], 'tina');
    expect(second).toStrictEqual({
      entry: {
        address: '127.0.0.1:8776',
        ip: '127.0.0.1',
        port: 8776,
        files: [],
        connection: 2,
        alias: 'tina',
      },
      displaced: 1,
    });
  });

  it('ALIAS and SET_FILES return copies of the entry as it now is', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['a']);
    const renamed = await registry.setAlias(1, 'bob');
    expect(renamed).toMatchObject({ address: '127.0.0.1:8776', alias: 'bob', files: ['a'] });
    renamed.files.push('not really');
    const replaced = await registry.setFiles(1, ['x', 'y', 'x']);
    expect(replaced).toMatchObject({ address: '127.0.0.1:8776', alias: 'bob', files: ['x', 'y'] });
    replaced.files.push('nor this');
    expect((await registry.snapshot())[0]?.files).toEqual(['x', 'y']);
    expect((await registry.search(1, 'x')).peers).toEqual(['127.0.0.1:8776']);
  });

  it("CHAT's sender is a copy; its files are the sender's", async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['a'], 'tina');
    const { sender } = await registry.chatRecipients(1);
    expect(sender).toMatchObject({ alias: 'tina', files: ['a'] });
    sender.files.push('b');
    expect((await registry.snapshot())[0]?.files).toEqual(['a']);
  });

  it('refuses in one sentence each: full, not joined, chat without an alias', async () => {
    const registry = new Registry({ maxPeers: 2 });
    await registry.join(1, '127.0.0.1', 8776, []);
    await registry.join(2, '127.0.0.1', 8777, []);
    expect(await asyncRefusalOf(() => registry.join(3, '127.0.0.1', 8778, []))).toBe(
      'SERVER_FULL: The index server is full (2 peers joined); try again later.',
    );
    expect(await asyncRefusalOf(() => registry.search(9, 'a'))).toBe(
      'NOT_JOINED: JOIN first: this connection has not joined the index.',
    );
    expect(await asyncRefusalOf(() => registry.chatRecipients(1))).toBe(
      'BAD_REQUEST: CHAT needs an alias: send ALIAS (or JOIN with one) first.',
    );
  });
});

describe('Registry: bounded by who is joined now', () => {
  it('forgets a file name with its last holder: by leave, re-JOIN, SET_FILES or takeover', async () => {
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
    await registry.join(3, '127.0.0.1', 8776, []); // takes over 8776: only.bin stays, held by 8777
    expect(registry.indexedNames).toBe(2);
    expect((await registry.search(2, 'only.bin')).peers).toEqual(['127.0.0.1:8777']);
    await registry.leave(2);
    expect(registry.indexedNames).toBe(0);
  });
});
