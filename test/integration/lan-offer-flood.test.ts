/**
 * A LAN member (the real CLI) flooded with offers by another machine of the group (a raw socket
 * sending from 127.0.0.2): each offer is printed once, at most 20 a second, the rest summed up in
 * one line a second; the table keeps 100 offers of that machine at most, and the offer of a
 * well-behaved member stays listed and can be got.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeOffer } from '../../peer/lan/datagram.ts';
import { OFFER_NOTICES_PER_SECOND } from '../../peer/lan/messages.ts';
import { DEFAULT_MAX_OFFERS_PER_HOST } from '../../peer/lan/offer-table.ts';
import { type CliProcess, killAll } from '../helpers/cli.ts';
import { removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { waitUntil } from '../helpers/wait.ts';
import { GroupTap, randomGroup, startMember, type TestGroup } from './lan-group.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await killAll();
  await removeTempDirs();
});

async function machine(group: TestGroup, from: string): Promise<GroupTap> {
  const tap = await GroupTap.open(group, from);
  closers.push(() => tap.close());
  return tap;
}

const fakeOffer = (i: number, ip = '127.0.0.2') =>
  encodeOffer({ file: `fake-${i}.bin`, size: 10, ip, port: 5000 });
const offerLines = (cli: CliProcess) => cli.stderr.filter((line) => /^Offer \d+: /.test(line));
const summaries = (cli: CliProcess) =>
  cli.stderr.filter((line) => / more offers? heard, not shown one by one/.test(line));
/** How many offers the summary lines say were not shown. */
const told = (cli: CliProcess) =>
  summaries(cli).reduce((sum, line) => sum + Number(/^(\d+) more/.exec(line)?.[1]), 0);

describe('offers flooding a LAN member', () => {
  it('are printed once each, 20 a second at most, the rest told in one line', async () => {
    const group = await randomGroup();
    const member = await startMember(group);
    const other = await machine(group, '127.0.0.2');
    // 30 offers, then the same 30 again (what every member does every 30 s).
    for (let round = 0; round < 2; round++) for (let i = 1; i <= 30; i++) await other.send(fakeOffer(i));
    await waitUntil(() => summaries(member.cli).length > 0, 'the summary of the offers not shown');
    // Sent after the others from the same socket, once their second is over: when it shows, every
    // offer before it was read (and the first second's lines are all out).
    await other.send(fakeOffer(31));
    await waitUntil(
      () => offerLines(member.cli).some((line) => line.startsWith('Offer 31: fake-31.bin ')),
      'the offer sent after the repeats',
    );
    // The first second prints its budget, in the order heard...
    expect(offerLines(member.cli).slice(0, OFFER_NOTICES_PER_SECOND)).toEqual(
      Array.from(
        { length: OFFER_NOTICES_PER_SECOND },
        (_, i) =>
          `Offer ${i + 1}: fake-${i + 1}.bin (10 B) at 127.0.0.2:5000, password needed (GET ${i + 1} password)`,
      ),
    );
    // ...and every new offer is printed or counted exactly once: 31, not 61 with the repeats.
    expect(offerLines(member.cli).length + told(member.cli)).toBe(31);
    expect(summaries(member.cli)[0]).toMatch(
      /^\d+ more offers heard, not shown one by one \(OFFERS lists the offers kept\)\.$/,
    );
    // Every offer is kept and listed once, repeats included.
    member.cli.send('OFFERS');
    await waitUntil(() => member.cli.stdout.some((line) => line.startsWith('31. fake-31.bin ')), 'OFFERS');
    expect(member.cli.stdout.filter((line) => /^\d+\. fake-/.test(line))).toHaveLength(31);
  });

  it('3000 fake offers: bounded lines and table, and a real offer is still listed and served', async () => {
    const group = await randomGroup();
    const member = await startMember(group);
    const sharer = await startMember(group);
    const digest = await writeRandomFile(path.join(sharer.dir, 'real.txt'), 5000);
    sharer.cli.send('OFFER real.txt s3cret');
    await member.cli.waitFor(/^Offer 1: real\.txt /, 'stderr');

    const other = await machine(group, '127.0.0.2');
    const started = performance.now();
    for (let batch = 0; batch < 30; batch++) {
      for (let i = 1; i <= 100; i++) await other.send(fakeOffer(batch * 100 + i));
      // Chat from the same socket, printed at once: when it shows, the member has read the batch
      // (so no offer is lost in a full socket buffer and the counts below are exact).
      await other.send(`batch ${batch} sent\n`);
      await waitUntil(
        () => member.cli.stdout.includes(`127.0.0.2 :> batch ${batch} sent`),
        `the member reads batch ${batch} of the flood`,
      );
    }
    const seconds = (performance.now() - started) / 1000;
    const fake = () => offerLines(member.cli).filter((line) => line.includes(' at 127.0.0.2:'));
    // The last summary comes when its second ends: then every offer is either shown or counted.
    await waitUntil(
      () => fake().length + told(member.cli) === 3000,
      'every fake offer is shown or counted',
      5000,
    );
    const windows = Math.ceil(seconds) + 1;
    console.log(
      `3000 offers in ${seconds.toFixed(2)} s: ${fake().length} offer lines, ${summaries(member.cli).length} summary lines`,
    );
    expect(fake().length).toBeLessThanOrEqual(OFFER_NOTICES_PER_SECOND * windows);
    expect(summaries(member.cli).length).toBeLessThanOrEqual(windows);

    member.cli.send('OFFERS');
    // OFFERS lists by number: the real offer (number 1) first, then the fake ones kept, the last
    // one heard last.
    await waitUntil(
      () => member.cli.stdout.some((line) => /^\d+\. fake-3000\.bin /.test(line)),
      'OFFERS lists the last fake offer',
    );
    expect(member.cli.stdout).toContainEqual(
      expect.stringMatching(/^1\. real\.txt \(5\.00 kB\) at 127\.0\.0\.1:\d+, password needed$/),
    );
    const listed = member.cli.stdout.filter((line) => /^\d+\. /.test(line));
    expect(listed.filter((line) => line.includes(' at 127.0.0.2:'))).toHaveLength(
      DEFAULT_MAX_OFFERS_PER_HOST,
    );

    member.cli.send('GET 1 s3cret');
    await waitUntil(
      () => member.cli.stdout.some((line) => /^Got real\.txt \(5\.00 kB\) into /.test(line)),
      'the member gets the real offer',
    );
    expect(await sha256File(path.join(member.dir, 'real.txt'))).toBe(digest);
  });
});
