/** SHA-256 on the download's hashing thread (peer/transfer/thread-hash.ts) against node:crypto's. */
import { createHash, type Hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { allocateAligned } from '../../peer/buffer-recycler.ts';
import { ThreadHash } from '../../peer/transfer/thread-hash.ts';
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
});
