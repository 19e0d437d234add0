/**
 * SHA-256 on the download's hashing thread (peer/transfer/thread-hash.ts) against node:crypto's,
 * and what happens when that thread dies.
 */
import { createHash, type Hash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { allocateAligned } from '../../peer/buffer-recycler.ts';
import { liveHashesForTests, stopHashThreadForTests, ThreadHash } from '../../peer/transfer/thread-hash.ts';
import { randomIntFrom, runSeed, seededRandom } from '../helpers/seed.ts';

describe('ThreadHash', () => {
  it('updates (shared memory read in place, other bytes copied), copies and digests like node:crypto, in order', async () => {
    const random = seededRandom(runSeed('thread-hash'));
    // A download's buffer: shared memory, refilled only once the thread has read it.
    const shared = allocateAligned(256 * 1024);
    const pairs: { thread: ThreadHash; local: Hash }[] = [
      { thread: ThreadHash.create(), local: createHash('sha256') },
    ];
    const digests: { thread: Promise<string>; local: string }[] = [];
    for (let step = 0; step < 300; step++) {
      const pick = randomIntFrom(random, 0, pairs.length - 1);
      const pair = pairs[pick] as { thread: ThreadHash; local: Hash };
      const what = random();
      if (what < 0.6) {
        const length = randomIntFrom(random, 0, 64 * 1024);
        const offset = randomIntFrom(random, 0, shared.length - length);
        for (let i = offset; i < offset + length; i++) shared[i] = Math.floor(random() * 256);
        const bytes = shared.subarray(offset, offset + length);
        pair.local.update(bytes);
        if (random() < 0.5) await pair.thread.update(bytes);
        else {
          // Ordinary memory: copied when the update is made, so it may change at once.
          const own = Buffer.from(bytes);
          const done = pair.thread.update(own);
          own.fill(0);
          await done;
        }
      } else if (what < 0.8 && pairs.length < 20) {
        pairs.push({ thread: pair.thread.copy(), local: pair.local.copy() });
      } else if (pairs.length > 1) {
        digests.push({ thread: pair.thread.digest(), local: pair.local.digest('hex') });
        pairs.splice(pick, 1);
      }
    }
    for (const { thread, local } of pairs)
      digests.push({ thread: thread.digest(), local: local.digest('hex') });
    const got = await Promise.all(digests.map(({ thread }) => thread));
    expect(got).toEqual(digests.map(({ local }) => local));
    expect(digests.length).toBeGreaterThan(10);
  });

  it('a hash that was forgotten or digested cannot be used again: its operations fail, never a digest', async () => {
    const gone = ThreadHash.create();
    gone.forget();
    await expect(gone.digest()).rejects.toThrow(/no hash/);
    const used = ThreadHash.create();
    await used.update(Buffer.from('abc'));
    expect(await used.digest()).toBe(createHash('sha256').update('abc').digest('hex'));
    await expect(used.update(Buffer.from('d'))).rejects.toThrow(/no hash/);
    await expect(used.digest()).rejects.toThrow(/no hash/);
  });

  it('counts the running hashes it holds: made, copied, dropped and digested', async () => {
    const before = await liveHashesForTests();
    const one = ThreadHash.create();
    const two = one.copy();
    expect(await liveHashesForTests()).toBe(before + 2);
    one.forget();
    await two.digest();
    expect(await liveHashesForTests()).toBe(before);
  });
});

describe('ThreadHash when its thread dies', () => {
  const STOPPED = /^The SHA-256 thread stopped \(exit code \d+\)\.$/;

  it('what was asked of it fails with the reason: no digest of bytes it did not hash', async () => {
    // 8 passes over 32 MiB in place: the thread is still at the first when it is stopped.
    const shared = allocateAligned(32 * 1024 * 1024);
    const hash = ThreadHash.create();
    const updates = Array.from({ length: 8 }, () => hash.update(shared));
    const digest = hash.digest();
    const stopped = stopHashThreadForTests();
    await expect(digest).rejects.toThrow(STOPPED);
    await expect(updates.at(-1)).rejects.toThrow(STOPPED);
    await stopped;
  });

  it('a hash made before fails on every later use, with the same reason; a new hash starts a new thread and is right', async () => {
    const old = ThreadHash.create();
    await old.update(Buffer.from('before'));
    const copied = old.copy();
    await stopHashThreadForTests();
    await expect(old.update(Buffer.from('after'))).rejects.toThrow(STOPPED);
    await expect(old.digest()).rejects.toThrow(STOPPED);
    await expect(copied.digest()).rejects.toThrow(STOPPED);
    await expect(old.copy().digest()).rejects.toThrow(STOPPED);
    old.forget();

    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const fresh = ThreadHash.create();
    await fresh.update(bytes.subarray(0, 1024 * 1024));
    const half = fresh.copy();
    await fresh.update(bytes.subarray(1024 * 1024));
    expect(await fresh.digest()).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await half.digest()).toBe(
      createHash('sha256')
        .update(bytes.subarray(0, 1024 * 1024))
        .digest('hex'),
    );
    // Nothing of the old thread is left on the new one.
    expect(await liveHashesForTests()).toBe(0);
  });
});
