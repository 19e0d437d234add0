/** The registry's seed 002 side: aliases, the peer list, QUERY, SET_FILES, chat members, max peers. */
import { describe, expect, it } from 'vitest';
import { Registry } from '../../server/registry.ts';
import { isNapError } from '../../shared/errors.ts';

const isCode = (code: string) => (error: unknown) => isNapError(error) && error.code === code;

describe('Registry (discovery)', () => {
  it('keeps aliases; LIST shows alias -> address and file counts in join order', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['a', 'b'], 'tina');
    await registry.join(2, '127.0.0.1', 8777, []);
    await registry.setAlias(2, 'bob');
    await registry.join(3, '127.0.0.1', 8778, ['a']);
    expect(await registry.list(3)).toEqual([
      { address: '127.0.0.1:8776', fileCount: 2, alias: 'tina' },
      { address: '127.0.0.1:8777', fileCount: 0, alias: 'bob' },
      { address: '127.0.0.1:8778', fileCount: 1 },
    ]);
    expect(await registry.query(2, 'a')).toEqual([
      { address: '127.0.0.1:8776', alias: 'tina' },
      { address: '127.0.0.1:8778' },
    ]);
    expect(await registry.query(2, 'A')).toEqual([]);
  });

  it('SET_FILES replaces the list: SEARCH and QUERY follow it', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, ['old.mp4', 'both.mp4'], 'tina');
    await registry.setFiles(1, ['both.mp4', 'new.mp4']);
    expect((await registry.search(1, 'old.mp4')).peers).toEqual([]);
    expect((await registry.search(1, 'new.mp4')).peers).toEqual(['127.0.0.1:8776']);
    expect((await registry.search(1, 'both.mp4')).peers).toEqual(['127.0.0.1:8776']);
    await registry.setFiles(1, []);
    expect(await registry.list(1)).toEqual([{ address: '127.0.0.1:8776', fileCount: 0, alias: 'tina' }]);
  });

  it('chat goes to every other member (joined with an alias), never back to the sender', async () => {
    const registry = new Registry();
    await registry.join(1, '127.0.0.1', 8776, [], 'tina');
    await registry.join(2, '127.0.0.1', 8777, [], 'bob');
    await registry.join(3, '127.0.0.1', 8778, []); // a course peer: no alias, no pushes
    await registry.join(4, '127.0.0.1', 8779, [], 'ana');
    const { sender, recipients } = await registry.chatRecipients(1);
    expect(sender.alias).toBe('tina');
    expect(recipients).toEqual([2, 4]);
    expect(await registry.members()).toEqual([1, 2, 4]);
    await expect(registry.chatRecipients(3)).rejects.toSatisfy(isCode('BAD_REQUEST'));
    await expect(registry.chatRecipients(9)).rejects.toSatisfy(isCode('NOT_JOINED'));
  });

  it('seed 002 requests need a JOIN first', async () => {
    const registry = new Registry();
    await expect(registry.list(1)).rejects.toSatisfy(isCode('NOT_JOINED'));
    await expect(registry.query(1, 'a')).rejects.toSatisfy(isCode('NOT_JOINED'));
    await expect(registry.setAlias(1, 'x')).rejects.toSatisfy(isCode('NOT_JOINED'));
    await expect(registry.setFiles(1, [])).rejects.toSatisfy(isCode('NOT_JOINED'));
  });

  it('refuses a newcomer past maxPeers with SERVER_FULL; a re-JOIN still works', async () => {
    const registry = new Registry({ maxPeers: 2 });
    await registry.join(1, '127.0.0.1', 8776, []);
    await registry.join(2, '127.0.0.1', 8777, []);
    await expect(registry.join(3, '127.0.0.1', 8778, [])).rejects.toSatisfy(isCode('SERVER_FULL'));
    await registry.join(1, '127.0.0.1', 9000, ['x']); // re-JOIN of a joined connection
    expect(registry.size).toBe(2);
    await registry.leave(1);
    await registry.join(4, '127.0.0.1', 8778, []);
    expect(registry.size).toBe(2);
  });

  it('defaults to 1000 peers', async () => {
    const registry = new Registry();
    expect(registry.maxPeers).toBe(1000);
    await Promise.all(Array.from({ length: 1000 }, (_, i) => registry.join(i, '10.0.0.1', i + 1, [])));
    await expect(registry.join(1000, '10.0.0.2', 1, [])).rejects.toSatisfy(isCode('SERVER_FULL'));
  });
});
