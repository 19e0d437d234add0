/**
 * The other modes download with the same policy: the chat mode's /fetch fetches a holder
 * unverified only when QUERY lists it without INFO; the LAN and DHT modes (peer/downloader.ts
 * without `plain`) always verify — their peers are napshare's.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatPeer } from '../../peer/chat/chat-peer.ts';
import { downloadFile } from '../../peer/downloader.ts';
import { IndexClient } from '../../peer/index-client.ts';
import { IndexServer } from '../../server/index-server.ts';
import { NAPSHARE_CAPS } from '../../shared/capabilities.ts';
import { isNapError } from '../../shared/errors.ts';
import { exists, makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { startHostileUploader } from '../helpers/hostile-uploader.ts';
import { startPlainPeer } from '../helpers/plain-peer.ts';

const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await removeTempDirs();
});

async function chatNetwork() {
  const index = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
  closers.push(() => index.close());
  const server = { host: '127.0.0.1', port: index.address().port };
  const folder = await makeTempDir();
  const printed: string[] = [];
  const notices: string[] = [];
  const chat = await ChatPeer.start({
    alias: 'ana',
    folder,
    host: '127.0.0.1',
    port: 0,
    server,
    print: (line) => printed.push(line),
    notice: (line) => notices.push(line),
  });
  closers.push(() => chat.close());
  /** Another holder joins the index, with `caps` or as the course's JOIN (none). */
  const holder = async (port: number, file: string, caps?: readonly string[]) => {
    const client = await IndexClient.connect(server.host, server.port, { heartbeat: false });
    closers.push(() => client.close());
    await client.join('127.0.0.1', port, [file], undefined, caps);
  };
  return { chat, folder, printed, notices, holder };
}

describe('the chat mode: /fetch follows what QUERY says of the holder', () => {
  it('a holder listed without INFO is fetched unverified, and the notice says so', async () => {
    const theirs = await makeTempDir();
    const sha = await writeRandomFile(path.join(theirs, 'a.bin'), 50_000);
    const plain = await startPlainPeer(theirs);
    closers.push(() => {
      plain.close();
    });
    const net = await chatNetwork();
    await net.holder(plain.port, 'a.bin');
    await net.chat.run({ type: 'fetch', file: 'a.bin', host: '127.0.0.1', port: plain.port });
    expect(await sha256File(path.join(net.folder, 'a.bin'))).toBe(sha);
    expect(net.notices.at(-1)).toBe(
      `a.bin was saved without verification: the index lists its peer 127.0.0.1:${plain.port} without the INFO capability (a peer that speaks only DOWNLOAD), so there were no piece hashes to check it against.`,
    );
    expect(net.printed.at(-1)).toMatch(/^File Downloaded! a\.bin \(50000 bytes\) saved in /);
  });

  it('a holder that announced INFO and then closes INFO is never fetched: an error, nothing saved', async () => {
    const liar = await startHostileUploader('close', Buffer.alloc(50_000, 7));
    closers.push(liar.close);
    const net = await chatNetwork();
    await net.holder(liar.port, 'a.bin', NAPSHARE_CAPS);
    await expect(
      net.chat.run({ type: 'fetch', file: 'a.bin', host: '127.0.0.1', port: liar.port }),
    ).rejects.toSatisfy((error) => isNapError(error, 'CONNECTION_CLOSED'));
    expect(liar.requests.every((request) => request.type === 'INFO')).toBe(true);
    expect(await exists(path.join(net.folder, 'a.bin'))).toBe(false);
  });

  it('an address QUERY does not list must be verified', async () => {
    const theirs = await makeTempDir();
    await writeRandomFile(path.join(theirs, 'a.bin'), 50_000);
    const plain = await startPlainPeer(theirs);
    closers.push(() => {
      plain.close();
    });
    const net = await chatNetwork();
    await expect(
      net.chat.run({ type: 'fetch', file: 'a.bin', host: '127.0.0.1', port: plain.port }),
    ).rejects.toSatisfy((error) => isNapError(error, 'PROTOCOL'));
    expect(plain.requests.map((request) => request.type)).toEqual(['INFO']);
    expect(await exists(path.join(net.folder, 'a.bin'))).toBe(false);
  });
});

describe('the LAN and DHT modes: downloadFile without `plain` always verifies', () => {
  it('a DOWNLOAD-only peer is refused with a clear error, never fetched', async () => {
    const theirs = await makeTempDir();
    await writeRandomFile(path.join(theirs, 'a.bin'), 50_000);
    const plain = await startPlainPeer(theirs);
    closers.push(() => {
      plain.close();
    });
    const into = await makeTempDir();
    await expect(
      downloadFile({ host: '127.0.0.1', port: plain.port, file: 'a.bin', folder: into }),
    ).rejects.toThrow(/^a\.bin was not downloaded, as nothing unverified is saved: /);
    expect(plain.requests.map((request) => request.type)).toEqual(['INFO']);
    expect(await exists(path.join(into, 'a.bin'))).toBe(false);
  });
});
