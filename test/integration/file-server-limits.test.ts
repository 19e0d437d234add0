/**
 * The peer's file server (and the LAN one, which is the same server behind a password guard)
 * under hostile sockets: idle and slowloris connections, downloaders that never read holding the
 * upload slots, connection floods over the caps, idle sockets renewed without end. Each time the
 * hostile newcomer gets a DOWNLOAD_REJECTED line, and a well-behaved downloader on 127.0.0.1 gets
 * its files (compared by SHA-256) throughout. Also: a client that half-closes after its request
 * (`printf ... | nc -N`) gets the whole file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FileServer, type FileServerLimits } from '../../peer/file-server.ts';
import { LanPeer } from '../../peer/lan/lan-peer.ts';
import { FolderCatalog } from '../../peer/shared-folder.ts';
import { LineSplitter } from '../../shared/line-splitter.ts';
import {
  ATTACKER_IP,
  type AttackSocket,
  connectFrom,
  endAttack,
  idleFlood,
  loopbackAddress,
  nonReaders,
  renewingIdleFlood,
  slowloris,
} from '../helpers/attackers.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { waitUntil } from '../helpers/wait.ts';
import { randomGroup } from './lan-group.ts';

let folder: string;
const sha: Record<string, string> = {};
let server: FileServer | undefined;
const attacks: AttackSocket[] = [];
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  folder = await makeTempDir();
  // Bigger than loopback's kernel buffers (about 10 MB) and the server's 8 MiB in flight, so a
  // downloader that never reads really stalls its upload.
  sha['big.bin'] = await writeRandomFile(path.join(folder, 'big.bin'), 48 * 1024 * 1024);
  sha['small.bin'] = await writeRandomFile(path.join(folder, 'small.bin'), 300_000);
});

afterAll(removeTempDirs);

afterEach(async () => {
  await endAttack(attacks.splice(0));
  for (const close of closers.splice(0)) await close();
  await server?.close();
  server = undefined;
});

async function start(limits: Partial<FileServerLimits> = {}, maxUploads?: number): Promise<FileServer> {
  server = await FileServer.start({
    host: '127.0.0.1',
    port: 0,
    catalog: new FolderCatalog(folder),
    maxUploads,
    limits,
  });
  return server;
}

function rejected(reason: string, message: string): string {
  return `${JSON.stringify({ type: 'DOWNLOAD_REJECTED', reason, message })}\n`;
}

/**
 * A well-behaved raw downloader from 127.0.0.1: sends DOWNLOAD, reads the reply line and the
 * body; `halfClose` ends its side right after the request, as `nc -N` does.
 */
function fetchFile(
  port: number,
  file: string,
  options: { halfClose?: boolean } = {},
): Promise<{ reply: Record<string, unknown>; sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
    const splitter = new LineSplitter(1 << 16);
    let reply: Record<string, unknown> | undefined;
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('connect', () => {
      socket.write(`${JSON.stringify({ type: 'DOWNLOAD', file })}\n`);
      if (options.halfClose) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      if (reply === undefined) {
        const line = splitter.shift(chunk);
        if (line === null) return;
        reply = JSON.parse(line) as Record<string, unknown>;
        chunk = splitter.takeRest();
      }
      hash.update(chunk);
      bytes += chunk.length;
    });
    socket.on('error', reject);
    socket.on('close', () =>
      reply
        ? resolve({ reply, sha256: hash.digest('hex'), bytes })
        : reject(new Error('closed without a reply')),
    );
  });
}

async function expectServed(port: number, file = 'small.bin'): Promise<void> {
  const result = await fetchFile(port, file);
  expect(result.reply).toEqual({ type: 'DOWNLOAD_OK', size: result.bytes });
  expect(result.sha256).toBe(sha[file]);
}

describe('file server: half-closed clients', () => {
  it('answers a client that half-closes right after its request, with the whole file', async () => {
    const { port } = await start();
    const result = await fetchFile(port, 'big.bin', { halfClose: true });
    expect(result.reply).toEqual({ type: 'DOWNLOAD_OK', size: 48 * 1024 * 1024 });
    expect(result.sha256).toBe(sha['big.bin']);
  });

  const hasNc = spawnSync('sh', ['-c', 'nc -h 2>&1 | grep -q -- -N']).status === 0;
  it.skipIf(!hasNc)("printf '{...DOWNLOAD...}\\n' | nc -N 127.0.0.1 PORT > file gets the file", async () => {
    const { port } = await start();
    const out = path.join(await makeTempDir(), 'out.bin');
    const nc = spawn('sh', [
      '-c',
      `printf '{"type":"DOWNLOAD","file":"small.bin"}\\n' | nc -N 127.0.0.1 ${port} > '${out}'`,
    ]);
    const code = await new Promise((resolve) => nc.on('close', resolve));
    expect(code).toBe(0);
    const { readFile } = await import('node:fs/promises');
    const data = await readFile(out);
    const newline = data.indexOf(0x0a);
    expect(data.subarray(0, newline).toString()).toBe('{"type":"DOWNLOAD_OK","size":300000}');
    expect(
      createHash('sha256')
        .update(data.subarray(newline + 1))
        .digest('hex'),
    ).toBe(sha['small.bin']);
  });
});

describe('file server: idle and slow connections', () => {
  it('closes a connection that sends no request within the request timeout, with TIMEOUT', async () => {
    const { port } = await start({ requestTimeoutMs: 300 });
    const [idle] = await idleFlood({ port }, 1);
    attacks.push(idle as AttackSocket);
    await idle?.waitClosed(10_000, 'the idle connection to be closed');
    expect(idle?.text).toBe(rejected('TIMEOUT', 'No request for 0.3 s; the connection is closed.'));
    expect(idle?.lifetimeMs).toBeGreaterThanOrEqual(290);
    await expectServed(port);
  });

  it('a request trickled a byte at a time gets no more time than the request timeout', async () => {
    const { port } = await start({ requestTimeoutMs: 400 });
    const trickle = await slowloris({ port }, 5, { tickMs: 30, prefix: '{"type":"DOWNLOAD","file":"' });
    attacks.push(...trickle.sockets);
    try {
      for (const attack of trickle.sockets)
        await attack.waitClosed(10_000, 'the slowloris request to be cut');
    } finally {
      trickle.stop();
    }
    for (const attack of trickle.sockets) {
      expect(attack.text).toBe(rejected('TIMEOUT', 'No request for 0.4 s; the connection is closed.'));
      expect(attack.lifetimeMs).toBeGreaterThanOrEqual(390);
    }
  });
});

describe('file server: downloaders that never read', () => {
  it('hold at most their address share of the slots, lose them after the stall timeout; others are served', async () => {
    const stallTimeoutMs = 1500;
    const { port } = await start({ stallTimeoutMs }, 4);
    const request = `${JSON.stringify({ type: 'DOWNLOAD', file: 'big.bin' })}\n`;
    const stuck = await nonReaders({ port }, 4, request);
    attacks.push(...stuck);
    const began = performance.now();
    // Half the slots (2 of 4) go to the attacker's address; its other requests are refused.
    await waitUntil(() => server?.activeUploads === 2, 'two stalled uploads', 10_000);
    // While the attacker's two uploads are stuck, a well-behaved downloader gets both files.
    await expectServed(port, 'small.bin');
    await expectServed(port, 'big.bin');
    // The stalled uploads end (slots freed) once the stall timeout has passed.
    await waitUntil(() => server?.activeUploads === 0, 'the stalled uploads to be ended', 20_000);
    expect(performance.now() - began).toBeGreaterThanOrEqual(stallTimeoutMs - 10);
    // Reading at last, each attacker finds what it was sent, then the server's close.
    for (const attack of stuck) attack.socket.resume();
    for (const attack of stuck) await attack.waitClosed(10_000, 'a stalled downloader to be closed');
    const busy = rejected(
      'BUSY',
      'Your address 127.0.0.66 already has 2 uploads from here; try again later.',
    );
    expect(stuck.filter((attack) => attack.text === busy)).toHaveLength(2);
    const started = stuck.filter((attack) =>
      attack.text.startsWith('{"type":"DOWNLOAD_OK","size":50331648}\n'),
    );
    expect(started).toHaveLength(2);
    // Cut short: they got what the kernel buffers and the first writes held, not the file.
    for (const attack of started) expect(attack.bytesReceived).toBeLessThan(48 * 1024 * 1024);
    await expectServed(port, 'small.bin');
  });
});

describe('file server: connection floods', () => {
  it('refuses connections past the per-IP cap with BUSY; downloads from other addresses go on', async () => {
    const { port } = await start({ maxConnectionsPerIp: 5 });
    const flood = await idleFlood({ port }, 8);
    attacks.push(...flood);
    for (const attack of flood.slice(5))
      await attack.waitClosed(10_000, 'a connection over the cap to close');
    for (const attack of flood.slice(5))
      expect(attack.text).toBe(
        rejected(
          'BUSY',
          'Your address 127.0.0.66 already has 5 connections open here; close one and try again.',
        ),
      );
    expect(flood.slice(0, 5).every((attack) => !attack.isClosed)).toBe(true);
    await expectServed(port, 'big.bin');
  });

  it('past the server cap a newcomer gets BUSY, never a reset', async () => {
    const { port } = await start({ maxConnections: 20 });
    const flood = await idleFlood({ port, from: loopbackAddress }, 20);
    attacks.push(...flood);
    const late = await connectFrom(port, '127.0.0.1');
    attacks.push(late);
    late.write(`${JSON.stringify({ type: 'DOWNLOAD', file: 'small.bin' })}\n`);
    await late.waitClosed(10_000, 'the newcomer over the cap to be refused');
    expect(late.text).toBe(
      rejected('BUSY', 'The server already serves its maximum of 20 connections; try again later.'),
    );
  });

  it('256 idle sockets renewed without end from one address never stop the downloads', async () => {
    // Default caps (256 connections, 32 per IP); a short request timeout makes the attacker renew.
    const { port } = await start({ requestTimeoutMs: 250 });
    const flood = renewingIdleFlood({ port, from: ATTACKER_IP }, 256);
    closers.push(() => flood.stop());
    await waitUntil(() => flood.opened() >= 256 + 224, 'the attacker to be refused and renew', 20_000);
    // Several downloads while the attacker keeps renewing: every one served and verified.
    for (let i = 0; i < 5; i++) {
      await expectServed(port, i % 2 === 0 ? 'small.bin' : 'big.bin');
      await waitUntil(
        () => flood.opened() >= 256 + 224 + 32 * (i + 1),
        'the attacker to renew again',
        20_000,
      );
    }
    const busy = rejected(
      'BUSY',
      'Your address 127.0.0.66 already has 32 connections open here; close one and try again.',
    );
    const timeout = rejected('TIMEOUT', 'No request for 0.25 s; the connection is closed.');
    expect(flood.refusals.length).toBeGreaterThan(224);
    expect(flood.refusals.every((text) => text === busy || text === timeout)).toBe(true);
    expect(flood.refusals).toContain(busy);
    expect(flood.refusals).toContain(timeout);
    expect(flood.sockets.size).toBeLessThanOrEqual(256);
  });
});

describe('LAN file server: unauthenticated connections', () => {
  it('closes a client that does not answer the password challenge in time; the rightful user gets the file', async () => {
    const group = await randomGroup();
    const ownerDir = await makeTempDir();
    const getterDir = await makeTempDir();
    const secret = await writeRandomFile(path.join(ownerDir, 'secret.bin'), 200_000);
    const events = { chat: () => {}, offerHeard: () => {} };
    const common = { group, iface: '127.0.0.1', port: 0, events };
    const owner = await LanPeer.start({
      ...common,
      folder: ownerDir,
      fileServerLimits: { requestTimeoutMs: 500 },
    });
    closers.push(() => owner.close());
    const getter = await LanPeer.start({ ...common, folder: getterDir });
    closers.push(() => getter.close());
    await owner.offer('secret.bin', 'pw');
    const filePort = owner.fileServerAddress.port;
    // The attacker asks, gets the challenge, and never proves anything; more of it fill its share.
    const silent = await nonReaders({ port: filePort }, 1, '{"type":"DOWNLOAD","file":"secret.bin"}\n');
    attacks.push(...silent);
    const flood = await idleFlood({ port: filePort }, 40);
    attacks.push(...flood);
    const result = await getter.get({ ip: '127.0.0.1', port: filePort, file: 'secret.bin', password: 'pw' });
    expect(result.size).toBe(200_000);
    expect(await sha256File(path.join(getterDir, 'secret.bin'))).toBe(secret);
    const [attack] = silent as [AttackSocket];
    attack.socket.resume();
    await attack.waitClosed(10_000, 'the unauthenticated client to be closed');
    expect(attack.lifetimeMs).toBeGreaterThanOrEqual(490);
    const [challenge, refusal] = attack.text.split('\n');
    expect(JSON.parse(challenge as string)).toMatchObject({ type: 'AUTH_CHALLENGE' });
    expect(`${refusal}\n`).toBe(rejected('TIMEOUT', 'No request for 0.5 s; the connection is closed.'));
    // Over its 32 connections the attacker was told BUSY.
    expect(flood.filter((socket) => socket.text.includes('"reason":"BUSY"'))).toHaveLength(9);
  });
});
