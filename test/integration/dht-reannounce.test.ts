/**
 * Time is the subject here, so these tests wait on purpose: with a short --peer-max-age, an entry
 * re-announced every --announce-interval outlives several max ages; after clean it expires within
 * 4/3 of the max age (the Mainline DHT has no delete).
 */

import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { DhtDaemon } from '../../peer/dht/daemon.ts';
import { formatDuration } from '../../peer/dht/durations.ts';
import { makeTempDir, removeTempDirs, writeRandomFile } from '../helpers/files.ts';
import { startNetwork } from './dht-helpers.ts';

const PEER_MAX_AGE_MS = 900;
const ANNOUNCE_INTERVAL_MS = 150;
/** An entry lasts 2/3 to 4/3 of the max age (the store is swept every 2/3 of it). */
const LONGEST_LIFE_MS = Math.ceil((PEER_MAX_AGE_MS * 4) / 3);

let network: DhtDaemon[] = [];

afterAll(async () => {
  await Promise.all(network.map((daemon) => daemon.close()));
  await removeTempDirs();
});

describe('entries on other nodes', () => {
  it('never lapse while re-announced, and expire after clean', async () => {
    network = await startNetwork(2, {
      peerMaxAgeMs: PEER_MAX_AGE_MS,
      announceIntervalMs: ANNOUNCE_INTERVAL_MS,
    });
    const [first, second] = network as [DhtDaemon, DhtDaemon];
    const shared = await makeTempDir();
    await writeRandomFile(path.join(shared, 'kept.bin'), 100);
    await second.run(`publish ${shared}`);
    const holder = `127.0.0.1:${second.fileServer.port}`;

    // Twice the longest life of an entry: without re-announces it would be gone by now.
    await sleep(2 * LONGEST_LIFE_MS);
    expect((await first.run('search --all kept')).lines).toEqual(['kept found.', `${holder} kept.bin`]);

    const cleaned = (await second.run('clean')).lines;
    expect(cleaned[1]).toContain(
      `within ${formatDuration(LONGEST_LIFE_MS)} (napshare nodes with --peer-max-age 900 ms)`,
    );
    await second.publisher.idle();
    expect((await first.run('search --all kept')).lines).toEqual(['kept found.', `${holder} ?`]);
    // Margin for sweep timers that run late on a loaded machine.
    await sleep(LONGEST_LIFE_MS + 400);
    expect((await first.run('search --all kept')).lines).toEqual(['Cannot find kept']);
  });
});
