/**
 * `npm run peer -- lan` as people and scripts run it: real processes on a loopback multicast
 * group, driven by line commands, read on stdout/stderr.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTROL_MAGIC, encodeOffer } from '../../peer/lan/datagram.ts';
import { killAll, runCli } from '../helpers/cli.ts';
import { removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { GroupTap, RecordingRelay, randomGroup, startMember, type TestGroup } from './lan-group.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await killAll();
  await removeTempDirs();
});

async function openTap(group: TestGroup): Promise<GroupTap> {
  const tap = await GroupTap.open(group);
  closers.push(() => tap.close());
  return tap;
}

describe('npm run peer -- lan', () => {
  it('three members chat, offer, and get a file with its password; a wrong one is refused', async () => {
    const group = await randomGroup();
    const tap = await openTap(group);
    const [a, b, c] = await Promise.all([startMember(group), startMember(group), startMember(group)]);

    // Chat both ways, and from a plain UDP socket (socat would do the same).
    a.cli.send('MSG hello from A');
    await Promise.all([
      b.cli.waitFor('127.0.0.1 :> hello from A'),
      c.cli.waitFor('127.0.0.1 :> hello from A'),
    ]);
    b.cli.send('MSG hi from B');
    await Promise.all([a.cli.waitFor('127.0.0.1 :> hi from B'), c.cli.waitFor('127.0.0.1 :> hi from B')]);
    await tap.send('coucou !');
    await Promise.all([a, b, c].map((member) => member.cli.waitFor('127.0.0.1 :> coucou !')));

    // A offers a file; B and C hear it and list it.
    const password = 'pw-A1-uncommon-7731';
    const sha = await writeRandomFile(path.join(a.dir, 'movie.bin'), 300_000);
    a.cli.send(`OFFER movie.bin ${password}`);
    await a.cli.waitFor(`Offering movie.bin (300 kB) at 127.0.0.1:${a.port}, password needed`);
    await Promise.all([
      b.cli.waitFor(/^Offer 1: movie\.bin/, 'stderr'),
      c.cli.waitFor(/^Offer 1: movie\.bin/, 'stderr'),
    ]);
    b.cli.send('OFFERS');
    await b.cli.waitFor(`1. movie.bin (300 kB) at 127.0.0.1:${a.port}, password needed`);

    // C picks it with a wrong password: refused, nothing written, the command counts as failed.
    c.cli.send('GET 1 not-the-password');
    const refusal = await c.cli.waitFor(/^GET rejected:/, 'stderr');
    expect(refusal).toContain('AUTH_FAILED');
    expect(await fs.readdir(c.dir)).toEqual([]);

    // B gets it through a recording relay, then ends its input at once: EOF waits for the GET.
    const relay = await RecordingRelay.start(a.port);
    closers.push(() => relay.close());
    b.cli.send(`GET 127.0.0.1 ${relay.port} ${password} movie.bin`);
    expect(await b.cli.end()).toBe(0);
    expect(b.cli.stdout).toContain(`Got movie.bin (300 kB) into ${b.dir}`);
    expect(await sha256File(path.join(b.dir, 'movie.bin'))).toBe(sha);

    // The password never crossed the network: not to the file server, not on the group.
    const secret = Buffer.from(password);
    expect(relay.fromClients.length).toBeGreaterThan(0);
    expect(relay.bytes.includes(secret)).toBe(false);
    expect(
      tap.datagrams.some(({ data }) => data.subarray(0, CONTROL_MAGIC.length).equals(CONTROL_MAGIC)),
    ).toBe(true);
    for (const { data } of tap.datagrams) expect(data.includes(secret)).toBe(false);

    // No echo: A's stdout holds the others' messages and its own results only.
    expect(await c.cli.end()).toBe(1);
    expect(await a.cli.end()).toBe(0);
    expect(a.cli.stdout).toEqual([
      '127.0.0.1 :> hi from B',
      '127.0.0.1 :> coucou !',
      `Offering movie.bin (300 kB) at 127.0.0.1:${a.port}, password needed`,
    ]);
    expect(c.cli.stdout).toEqual([
      '127.0.0.1 :> hello from A',
      '127.0.0.1 :> hi from B',
      '127.0.0.1 :> coucou !',
    ]);
  });

  it('ignores hostile datagrams and keeps answering', async () => {
    const group = await randomGroup();
    const tap = await openTap(group);
    const member = await startMember(group);
    const offer = encodeOffer({ file: 'x.bin', size: 5, ip: '127.0.0.1', port: 9 });
    for (const data of [
      Buffer.from([0x00, 0xff, 0x13, 0x37, 0x80, 0x00]),
      Buffer.from([0xc3, 0x28, 0xa0, 0xa1]),
      offer.subarray(0, offer.length - 3),
      CONTROL_MAGIC,
      Buffer.alloc(65_507, 0x7a),
      Buffer.alloc(65_507, 0x00),
    ]) {
      await tap.send(data);
    }
    await tap.send('after the garbage');
    await member.cli.waitFor('127.0.0.1 :> after the garbage');
    member.cli.send('OFFERS');
    await member.cli.waitFor('No offers heard yet.');
    member.cli.send('MSG still alive');
    await tap.waitFor((data) => data.toString() === 'still alive\n');
    member.cli.send('QUIT');
    expect(await member.cli.exited).toBe(0);
    expect(member.cli.stdout).toEqual(['127.0.0.1 :> after the garbage', 'No offers heard yet.']);
  });

  it('reports bad commands on stderr and exits non-zero, still running the rest', async () => {
    const group = await randomGroup();
    const tap = await openTap(group);
    const member = await startMember(group);
    member.cli.send('HELLO');
    member.cli.send('OFFER missing.bin pw');
    member.cli.send('GET 7 pw');
    member.cli.send('MSG after errors');
    await tap.waitFor((data) => data.toString() === 'after errors\n');
    expect(await member.cli.end()).toBe(1);
    expect(member.cli.stderr.filter((line) => !line.startsWith('LAN member of'))).toEqual([
      expect.stringMatching(/^Unknown command "HELLO"/),
      expect.stringMatching(/^There is no file named "missing.bin"/),
      'GET failed: No offer numbered 7; OFFERS lists the offers heard.',
    ]);
  });

  it('refuses a group that is not multicast, and prints its usage with --help', async () => {
    const bad = runCli('peer', ['lan', '--group', '10.1.2.3:4242']);
    expect(await bad.end()).not.toBe(0);
    expect(bad.stderr.join('\n')).toMatch(/multicast address/);
    const help = runCli('peer', ['lan', '--help']);
    expect(await help.end()).toBe(0);
    expect(help.stdout.join('\n')).toContain('--group IP:PORT');
  });
});
