/** The course peer's session over real sockets: what a second JOIN does to the peer's sharing. */
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexClient } from '../../peer/index-client.ts';
import { PeerSession } from '../../peer/session.ts';
import { fetchInfo } from '../../peer/transfer/source-info.ts';
import { IndexServer } from '../../server/index-server.ts';
import { isNapError } from '../../shared/errors.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { startPlainPeer } from '../helpers/plain-peer.ts';

const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await removeTempDirs();
});

async function setUp() {
  const server = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
  closers.push(() => server.close());
  const printed: string[] = [];
  const notices: string[] = [];
  const session = new PeerSession({
    server: { host: '127.0.0.1', port: server.address().port },
    print: (line) => printed.push(line),
    notice: (message) => notices.push(message),
  });
  closers.push(() => session.close());
  return { session, printed, notices, indexPort: server.address().port };
}

describe('a second JOIN', () => {
  it('that fails (port taken) leaves the peer sharing at its first address', async () => {
    const folder = await makeTempDir();
    await writeRandomFile(path.join(folder, 'a.bin'), 1000);
    const { session, printed } = await setUp();
    await session.join('127.0.0.1', 0, folder);
    const first = session.joined?.port as number;
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => blocker.close(() => resolve())));
    const taken = (blocker.address() as net.AddressInfo).port;
    await expect(session.join('127.0.0.1', taken, folder)).rejects.toSatisfy((error) =>
      isNapError(error, 'ADDRESS_IN_USE'),
    );
    expect(session.joined?.port).toBe(first);
    expect(await fetchInfo({ host: '127.0.0.1', port: first }, 'a.bin')).toMatchObject({ size: 1000 });
    expect(printed).toEqual([`Sou peer 127.0.0.1:${first} com arquivos a.bin`]);
  });

  it('to a new address moves the sharing there and stops the old one', async () => {
    const folder = await makeTempDir();
    await writeRandomFile(path.join(folder, 'a.bin'), 10);
    const { session } = await setUp();
    await session.join('127.0.0.1', 0, folder);
    const first = session.joined?.port as number;
    await session.join('127.0.0.1', 0, folder);
    const second = session.joined?.port as number;
    expect(second).not.toBe(first);
    expect(await fetchInfo({ host: '127.0.0.1', port: second }, 'a.bin')).toMatchObject({ size: 10 });
    await expect(fetchInfo({ host: '127.0.0.1', port: first }, 'a.bin')).rejects.toSatisfy((error) =>
      isNapError(error, 'CONNECT_FAILED'),
    );
  });
});

describe('DOWNLOAD from a peer of another implementation (DOWNLOAD only, no INFO)', () => {
  it('listed by SEARCH without INFO: prints the course line, and says on the side that the copy is unverified', async () => {
    const theirs = await makeTempDir();
    const sha = await writeRandomFile(path.join(theirs, 'aula.mp4'), 100_000);
    const plain = await startPlainPeer(theirs);
    closers.push(() => {
      plain.close();
    });
    const mine = await makeTempDir();
    const { session, printed, notices, indexPort } = await setUp();
    // The other implementation joins as the course's JOIN has it: no capabilities.
    const course = await IndexClient.connect('127.0.0.1', indexPort, { heartbeat: false });
    closers.push(() => course.close());
    await course.join('127.0.0.1', plain.port, ['aula.mp4']);
    await session.join('127.0.0.1', 0, mine);
    await session.search('aula.mp4');
    await session.download('127.0.0.1', plain.port);
    expect(printed.at(-1)).toBe(`Arquivo aula.mp4 baixado com sucesso na pasta ${mine}`);
    expect(notices).toEqual([
      `aula.mp4 was saved without verification: the index lists its peer 127.0.0.1:${plain.port} without the INFO capability (a peer that speaks only DOWNLOAD), so there were no piece hashes to check it against.`,
    ]);
    expect(await sha256File(path.join(mine, 'aula.mp4'))).toBe(sha);
  });

  it('at an address the last SEARCH did not list: it must be verified, so nothing is saved', async () => {
    const theirs = await makeTempDir();
    await writeRandomFile(path.join(theirs, 'aula.mp4'), 100_000);
    const plain = await startPlainPeer(theirs);
    closers.push(() => {
      plain.close();
    });
    const mine = await makeTempDir();
    const { session, printed, notices } = await setUp();
    await session.join('127.0.0.1', 0, mine);
    await session.search('aula.mp4');
    await expect(session.download('127.0.0.1', plain.port)).rejects.toSatisfy((error) =>
      isNapError(error, 'PROTOCOL'),
    );
    expect(plain.requests.map((request) => request.type)).toEqual(['INFO']);
    expect(printed).toHaveLength(2); // the JOIN and SEARCH lines, no download line
    expect(notices).toEqual([]);
    expect(await fs.readdir(mine)).toEqual([]);
  });
});
