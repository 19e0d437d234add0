/**
 * LAN members in this process (LanPeer) on a real loopback multicast group and real TCP: chat,
 * offers, password-protected downloads, what crosses the network, and hostile datagrams.
 */
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadFile } from '../../peer/downloader.ts';
import { CONTROL_MAGIC, encodeOffer } from '../../peer/lan/datagram.ts';
import { LanPeer, type LanPeerOptions } from '../../peer/lan/lan-peer.ts';
import { chatLine } from '../../peer/lan/messages.ts';
import type { HeardOffer } from '../../peer/lan/offer-table.ts';
import { authProof } from '../../peer/lan/password-guard.ts';
import { isNapError } from '../../shared/errors.ts';
import { LineSplitter } from '../../shared/line-splitter.ts';
import { exists, makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { waitUntil, withDeadline } from '../helpers/wait.ts';
import { GroupTap, RecordingRelay, randomGroup, type TestGroup } from './lan-group.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await removeTempDirs();
});

/**
 * A LAN member with what it heard, and ways to wait for it. Chat is kept as the line the CLI prints
 * (napshare's own chatLine), so every expected line below is seed 001's literal `IP :> text`.
 */
class Member {
  readonly chats: string[] = [];
  readonly offers: HeardOffer[] = [];
  private waiters: (() => boolean)[] = [];

  private constructor(
    readonly peer: LanPeer,
    readonly dir: string,
  ) {}

  static async start(group: TestGroup, options: Partial<LanPeerOptions> = {}): Promise<Member> {
    const dir = await makeTempDir('napshare-lan-');
    let member: Member | undefined;
    const notify = () => {
      if (member) member.waiters = member.waiters.filter((done) => !done());
    };
    const peer = await LanPeer.start({
      group: { host: group.host, port: group.port },
      iface: '127.0.0.1',
      port: 0,
      folder: dir,
      events: {
        chat: (from, text) => {
          member?.chats.push(chatLine(from, text));
          notify();
        },
        offerHeard: (offer) => {
          member?.offers.push(offer);
          notify();
        },
      },
      ...options,
    });
    member = new Member(peer, dir);
    closers.push(() => peer.close());
    return member;
  }

  /** Resolves once `condition` holds (checked now and after every event); fails after 10 s. */
  until(condition: () => boolean, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return withDeadline(
      new Promise((resolve) =>
        this.waiters.push(() => {
          if (!condition()) return false;
          resolve();
          return true;
        }),
      ),
      10_000,
      `${what} (chat heard: ${JSON.stringify(this.chats)})`,
    );
  }

  heard(line: string): Promise<void> {
    return this.until(() => this.chats.includes(line), `the line ${JSON.stringify(line)}`);
  }

  heardOffer(file: string): Promise<HeardOffer> {
    return this.until(() => this.offers.some((offer) => offer.file === file), `an offer of ${file}`).then(
      () => this.offers.find((offer) => offer.file === file) as HeardOffer,
    );
  }
}

async function openTap(group: TestGroup): Promise<GroupTap> {
  const tap = await GroupTap.open(group);
  closers.push(() => tap.close());
  return tap;
}

describe('LAN chat on a loopback multicast group', () => {
  it('carries messages both ways between two members, without echo', async () => {
    const group = await randomGroup();
    const [a, b] = await Promise.all([Member.start(group), Member.start(group)]);
    await a.peer.say('coucou !');
    await b.heard('127.0.0.1 :> coucou !');
    await b.peer.say('salut  à toi');
    await a.heard('127.0.0.1 :> salut  à toi');
    // A's own message reached A's socket before B even heard it: it was recognised and dropped.
    expect(a.chats).toEqual(['127.0.0.1 :> salut  à toi']);
    expect(b.chats).toEqual(['127.0.0.1 :> coucou !']);
  });

  it('reaches every member of three, and shows a plain UDP sender as 127.0.0.1', async () => {
    const group = await randomGroup();
    const members = await Promise.all([Member.start(group), Member.start(group), Member.start(group)]);
    const [a, b, c] = members as [Member, Member, Member];
    await a.peer.say('from a');
    await Promise.all([b.heard('127.0.0.1 :> from a'), c.heard('127.0.0.1 :> from a')]);
    const tap = await openTap(group);
    await tap.send('from socat\n');
    await Promise.all(members.map((member) => member.heard('127.0.0.1 :> from socat')));
    expect(a.chats).toEqual(['127.0.0.1 :> from socat']);
    expect(b.chats).toEqual(['127.0.0.1 :> from a', '127.0.0.1 :> from socat']);
    expect(c.chats).toEqual(['127.0.0.1 :> from a', '127.0.0.1 :> from socat']);
  });

  it('sends chat as the typed text and a newline', async () => {
    const group = await randomGroup();
    const tap = await openTap(group);
    const a = await Member.start(group);
    await a.peer.say('just this');
    const data = await tap.waitFor((bytes) => bytes[0] !== 0);
    expect(data).toEqual(Buffer.from('just this\n'));
  });

  it('ignores binary garbage, truncated offers and 64 KiB datagrams, and keeps working', async () => {
    const group = await randomGroup();
    const a = await Member.start(group);
    const tap = await openTap(group);
    const offer = encodeOffer({ file: 'x.bin', size: 1, ip: '127.0.0.1', port: 9 });
    const hostile = [
      Buffer.from([0xff, 0x00, 0xfe, 0x01, 0x80]),
      Buffer.from([0x00]),
      CONTROL_MAGIC,
      offer.subarray(0, offer.length - 1),
      offer.subarray(0, 20),
      Buffer.alloc(65_507, 0x41),
      Buffer.concat([offer, Buffer.alloc(65_000, 0x20)]),
      Buffer.from('\u001b]0;owned\u0007'),
    ];
    for (const data of hostile) await tap.send(data);
    await tap.send('still here');
    await a.heard('127.0.0.1 :> still here');
    expect(a.chats).toEqual(['127.0.0.1 :> still here']);
    expect(a.offers).toEqual([]);
    expect(a.peer.offersHeard()).toEqual([]);
    // And it still answers: its messages reach the group.
    await a.peer.say('alive');
    await tap.waitFor((data) => data.toString() === 'alive\n');
  });

  it.skipIf(process.platform === 'win32')(
    'hears only the group: unicast to its port is not chat',
    async () => {
      const group = await randomGroup();
      const a = await Member.start(group);
      // Sent while A's is the only socket on the port, so the datagram could reach no one else.
      const plain = dgram.createSocket('udp4');
      closers.push(() => new Promise((resolve) => plain.close(() => resolve())));
      await new Promise<void>((resolve, reject) =>
        plain.send('sneaked in by unicast', group.port, '127.0.0.1', (error) =>
          error ? reject(error) : resolve(),
        ),
      );
      const tap = await openTap(group);
      await tap.send('by the group');
      await a.heard('127.0.0.1 :> by the group');
      expect(a.chats).toEqual(['127.0.0.1 :> by the group']);
    },
  );
});

describe('LAN offers', () => {
  it('are heard and listed by every other member, and withdrawn when the member leaves', async () => {
    const group = await randomGroup();
    const [a, b, c] = await Promise.all([Member.start(group), Member.start(group), Member.start(group)]);
    await writeRandomFile(path.join(a.dir, 'song.ogg'), 5000);
    const announced = await a.peer.offer('song.ogg', 'pw1');
    expect(announced).toEqual({
      file: 'song.ogg',
      size: 5000,
      ip: '127.0.0.1',
      port: a.peer.fileServerAddress.port,
    });
    const [heardByB] = await Promise.all([b.heardOffer('song.ogg'), c.heardOffer('song.ogg')]);
    expect(heardByB).toMatchObject({ id: 1, ...announced });
    expect(b.peer.offersHeard()).toMatchObject([{ id: 1, file: 'song.ogg', size: 5000 }]);
    expect(a.peer.offersHeard()).toEqual([]); // its own offer is not heard back
    await a.peer.close();
    await waitUntil(
      () => b.peer.offersHeard().length === 0 && c.peer.offersHeard().length === 0,
      'the offer is withdrawn',
    );
  });

  it('are announced again to a member that joins later', async () => {
    const group = await randomGroup();
    const a = await Member.start(group);
    await writeRandomFile(path.join(a.dir, 'early.bin'), 100);
    await a.peer.offer('early.bin', 'pw');
    const late = await Member.start(group);
    expect((await late.heardOffer('early.bin')).port).toBe(a.peer.fileServerAddress.port);
  });

  it('are announced again periodically', async () => {
    const group = await randomGroup();
    const tap = await openTap(group);
    const a = await Member.start(group, { offerRepeatMs: 100 });
    await writeRandomFile(path.join(a.dir, 'f.bin'), 10);
    await a.peer.offer('f.bin', 'pw');
    const isOffer = (data: Buffer) => data[0] === 0 && data.includes('"OFFER"');
    await tap.waitFor(isOffer);
    const first = tap.datagrams.filter((d) => isOffer(d.data)).length;
    await waitUntil(
      () => tap.datagrams.filter((d) => isOffer(d.data)).length >= first + 2,
      'two more offers on the group',
    );
  });

  it('that name another host than their sender are ignored', async () => {
    const group = await randomGroup();
    const a = await Member.start(group);
    const tap = await openTap(group);
    await tap.send(encodeOffer({ file: 'trap.bin', size: 1, ip: '10.9.8.7', port: 4000 }));
    await tap.send(encodeOffer({ file: 'fine.bin', size: 1, ip: '127.0.0.1', port: 4000 }));
    await a.heardOffer('fine.bin');
    expect(a.peer.offersHeard().map((offer) => offer.file)).toEqual(['fine.bin']);
  });

  it('refuse files that are not in the folder, unsafe names and empty passwords', async () => {
    const group = await randomGroup();
    const a = await Member.start(group);
    await writeRandomFile(path.join(a.dir, 'ok.bin'), 1);
    await expect(a.peer.offer('missing.bin', 'pw')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(a.peer.offer('../ok.bin', 'pw')).rejects.toMatchObject({ code: 'UNSAFE_NAME' });
    await expect(a.peer.offer('ok.bin', '')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});

describe('LAN password-protected downloads', () => {
  /** Holds shortened where the hold is not what a test looks at. */
  const QUICK_THROTTLE = { throttle: { firstDelayMs: 300, stepDelayMs: 100, maxDelayMs: 500 } };

  async function offeringPair(size = 300_000, ownerOptions: Partial<LanPeerOptions> = {}) {
    const group = await randomGroup();
    const [owner, getter] = await Promise.all([Member.start(group, ownerOptions), Member.start(group)]);
    const sha = await writeRandomFile(path.join(owner.dir, 'secret.bin'), size);
    await writeRandomFile(path.join(owner.dir, 'private.bin'), 10);
    return { group, owner, getter, sha };
  }

  it('gets the file with the right password, and no byte on the wire holds the password', async () => {
    const { group, owner, getter, sha } = await offeringPair();
    const tap = await openTap(group);
    const password = 'Tr0ub4dor&3-correct-horse';
    await owner.peer.offer('secret.bin', password);
    await getter.heardOffer('secret.bin');
    const relay = await RecordingRelay.start(owner.peer.fileServerAddress.port);
    closers.push(() => relay.close());
    const result = await getter.peer.get({ ip: '127.0.0.1', port: relay.port, file: 'secret.bin', password });
    expect(result.size).toBe(300_000);
    expect(await sha256File(path.join(getter.dir, 'secret.bin'))).toBe(sha);
    // What the client wrote: requests for the file and proofs, never the password.
    const sent = Buffer.concat(relay.fromClients)
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    expect(sent.some((message) => message.type === 'AUTH')).toBe(true);
    for (const message of sent) {
      if (message.type === 'AUTH')
        expect(message).toEqual({ type: 'AUTH', proof: expect.stringMatching(/^[0-9a-f]{64}$/) });
      else
        expect(message).toMatchObject({
          type: expect.stringMatching(/^(DOWNLOAD|INFO)$/),
          file: 'secret.bin',
        });
    }
    const secret = Buffer.from(password);
    expect(relay.bytes.includes(secret)).toBe(false);
    expect(tap.datagrams.length).toBeGreaterThan(0);
    for (const { data } of tap.datagrams) expect(data.includes(secret)).toBe(false);
  });

  it('refuses a wrong password clearly, after a hold, and writes nothing', async () => {
    const { owner, getter } = await offeringPair();
    await owner.peer.offer('secret.bin', 'right');
    const { port } = owner.peer.fileServerAddress;
    const started = performance.now();
    const error = await getter.peer
      .get({ ip: '127.0.0.1', port, file: 'secret.bin', password: 'wrong' })
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(isNapError(error, 'REJECTED')).toBe(true);
    expect((error as Error).message).toContain('AUTH_FAILED');
    expect(await fs.readdir(getter.dir)).toEqual([]);
    // The rightful user, right after, gets it.
    await getter.peer.get({ ip: '127.0.0.1', port, file: 'secret.bin', password: 'right' });
    expect(await exists(path.join(getter.dir, 'secret.bin'))).toBe(true);
  });

  it('gives each offered file its own password and serves nothing that is not offered', async () => {
    const { owner, getter } = await offeringPair(1000, QUICK_THROTTLE);
    await writeRandomFile(path.join(owner.dir, 'other.bin'), 10);
    await owner.peer.offer('secret.bin', 'one');
    await owner.peer.offer('other.bin', 'two');
    const { port } = owner.peer.fileServerAddress;
    const get = (file: string, password: string) =>
      getter.peer.get({ ip: '127.0.0.1', port, file, password }).then(
        () => 'OK',
        (error: Error) => error.message,
      );
    expect(await get('other.bin', 'one')).toContain('AUTH_FAILED');
    expect(await get('other.bin', 'two')).toBe('OK');
    expect(await get('private.bin', 'one')).toContain('NOT_FOUND');
    expect(await fs.readdir(getter.dir)).toEqual(['other.bin']);
  });

  it('challenges INFO requests like downloads', async () => {
    const { owner } = await offeringPair(1000, QUICK_THROTTLE);
    await owner.peer.offer('secret.bin', 'pw');
    const { port } = owner.peer.fileServerAddress;
    const ask = async (password: string) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      const splitter = new LineSplitter(1 << 20);
      const lines: string[] = [];
      let wake = () => {};
      socket.on('data', (chunk: Buffer) => {
        lines.push(...splitter.push(chunk));
        wake();
      });
      const next = async () => {
        while (lines.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        return JSON.parse(lines.shift() as string);
      };
      socket.write('{"type":"INFO","file":"secret.bin"}\n');
      const challenge = await next();
      expect(challenge).toMatchObject({
        type: 'AUTH_CHALLENGE',
        nonce: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      socket.write(
        `${JSON.stringify({ type: 'AUTH', proof: authProof(password, challenge.nonce, 'secret.bin') })}\n`,
      );
      const reply = await next();
      socket.destroy();
      return reply;
    };
    expect(await ask('pw')).toMatchObject({ type: 'INFO_OK', size: 1000 });
    expect(await ask('nope')).toMatchObject({ type: 'DOWNLOAD_REJECTED', reason: 'AUTH_FAILED' });
  });

  it('lets one address guess only one at a time: extra parallel guesses are refused unjudged', async () => {
    const { owner, getter } = await offeringPair(10, QUICK_THROTTLE);
    await owner.peer.offer('secret.bin', 'right');
    const { port } = owner.peer.fileServerAddress;
    // One folder per guess: two downloads of one file into one folder never run at once.
    const folders = await Promise.all(Array.from({ length: 8 }, () => makeTempDir('napshare-lan-')));
    const started = performance.now();
    const results = await Promise.all(
      folders.map((folder, i) =>
        downloadFile({
          host: '127.0.0.1',
          port,
          file: 'secret.bin',
          folder,
          answerChallenge: (file, nonce) => authProof(`guess${i}`, nonce, file),
        }).catch((e: Error) => e.message),
      ),
    );
    const failed = results.filter((r) => String(r).includes('AUTH_FAILED')).length;
    const throttled = results.filter((r) => String(r).includes('THROTTLED')).length;
    expect(failed + throttled).toBe(8);
    // At most 4 judged, one after another (holds of 300, 400, 500, 500 ms), the others refused at once.
    expect(failed).toBeLessThanOrEqual(4);
    expect(throttled).toBeGreaterThanOrEqual(4);
    expect(failed).toBeGreaterThanOrEqual(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual([0, 300, 700, 1200, 1700][failed] as number);
    for (const folder of [getter.dir, ...folders]) expect(await fs.readdir(folder)).toEqual([]);
  });
});
