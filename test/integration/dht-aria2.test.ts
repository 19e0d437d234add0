/**
 * Interoperability with a standard BitTorrent DHT node: aria2 (Debian package aria2, listed in
 * .ci/run) joins a napshare node on loopback. aria2 downloads a magnet for SHA-1(name): it asks the
 * DHT for peers and announces itself, so napshare's `search --all` lists it as `IP:PORT ?` (it is
 * no napshare file server); and aria2 connects to the holder napshare announced, with a BitTorrent
 * handshake for that very info-hash. Everything stays on 127.0.0.1: the magnet has no tracker and
 * aria2's only DHT entry point is the napshare node.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import type { DhtDaemon } from '../../peer/dht/daemon.ts';
import { DhtNode } from '../../peer/dht/dht-node.ts';
import { makeTempDir, removeTempDirs } from '../helpers/files.ts';
import { startNetwork } from './dht-helpers.ts';

const hasAria2 = spawnSync('aria2c', ['--version']).status === 0;
const NAME = 'interop-check.iso';
/**
 * The magnet's info-hash, SHA-1 of the name (seed 000, 13), worked out apart from napshare:
 * `printf interop-check.iso | sha1sum`. napshare's own key function is what the test checks: its
 * `search` must find what aria2 announced under this key.
 */
const KEY_HEX = 'ea594f64dcbef5db3d67b8054cd06d8d545b9510';
const BT_PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1');

let daemon: DhtDaemon | undefined;
let announcer: DhtNode | undefined;
let bittorrentPeer: net.Server | undefined;
let aria2: ChildProcess | undefined;

afterAll(async () => {
  if (aria2 && aria2.exitCode === null) {
    const exited = new Promise((resolve) => aria2?.once('exit', resolve));
    aria2.kill('SIGKILL');
    await exited;
  }
  bittorrentPeer?.close();
  await Promise.all([daemon?.close(), announcer?.close()]);
  await removeTempDirs();
});

/** A TCP listener standing for a BitTorrent peer: resolves with the first handshake it receives. */
function listenForHandshake(): Promise<{ server: net.Server; handshake: Promise<Buffer> }> {
  return new Promise((resolve) => {
    let gotHandshake: (bytes: Buffer) => void = () => {};
    const handshake = new Promise<Buffer>((done) => {
      gotHandshake = done;
    });
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      let bytes = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        bytes = Buffer.concat([bytes, chunk]);
        // napshare's LIST (a search confirming holders) starts with "{": not a BitTorrent peer.
        if (bytes[0] !== 0x13) return socket.destroy();
        if (bytes.length >= 48) {
          gotHandshake(bytes.subarray(0, 48));
          socket.destroy();
        }
      });
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, handshake }));
  });
}

describe.skipIf(!hasAria2)('a standard BitTorrent DHT node (aria2) in a napshare network', () => {
  it('announces into napshare, and finds what napshare announced', async () => {
    [daemon] = (await startNetwork(1, { confirmTimeoutMs: 1000 })) as [DhtDaemon];
    const key = Buffer.from(KEY_HEX, 'hex');

    // A second napshare node announces a "BitTorrent peer" for the key into the first node's store.
    const peer = await listenForHandshake();
    bittorrentPeer = peer.server;
    announcer = await DhtNode.start({
      host: '127.0.0.1',
      port: 0,
      bootstrap: { kind: 'nodes', nodes: [{ host: '127.0.0.1', port: daemon.node.port }] },
    });
    await announcer.ready;
    await announcer.announce(key, (peer.server.address() as net.AddressInfo).port);

    const aria2Announced = new Promise<{ host: string; port: number }>((resolve) => {
      daemon?.node.onAnnounce((holder, keyHex) => {
        if (keyHex === KEY_HEX && holder.port !== (peer.server.address() as net.AddressInfo).port)
          resolve(holder);
      });
    });

    const work = await makeTempDir('napshare-aria2-');
    aria2 = spawn(
      'aria2c',
      [
        '--no-conf',
        '--enable-dht=true',
        '--enable-dht6=false',
        `--dht-entry-point=127.0.0.1:${daemon.node.port}`,
        `--dht-file-path=${path.join(work, 'dht.dat')}`,
        `--dir=${work}`,
        '--bt-enable-lpd=false',
        '--enable-peer-exchange=false',
        '--disable-ipv6=true',
        '--summary-interval=0',
        '--console-log-level=notice',
        '--stop=50',
        `magnet:?xt=urn:btih:${KEY_HEX}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // aria2 picks its TCP port in 6881-6999 and prints it.
    const tcpPort = new Promise<number>((resolve) => {
      readline.createInterface({ input: aria2?.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        const match = /IPv4 BitTorrent: listening on TCP port (\d+)/.exec(line);
        if (match) resolve(Number(match[1]));
      });
    });

    // aria2 -> napshare: its announce_peer reaches the napshare node with aria2's TCP port.
    const holder = await aria2Announced;
    expect(holder).toEqual({ host: '127.0.0.1', port: await tcpPort });
    const lines = (await daemon.run(`search --all ${NAME}`)).lines;
    expect(lines[0]).toBe(`${NAME} found.`);
    expect(lines).toContain(`127.0.0.1:${holder.port} ?`);
    // Nobody confirms over napshare's LIST: without --all, nothing is listed.
    expect((await daemon.run(`search ${NAME}`)).lines).toEqual([`Cannot find ${NAME}`]);

    // napshare -> aria2: aria2 got the napshare-announced holder from get_peers and connects to it.
    const handshake = await peer.handshake;
    expect(handshake.subarray(0, 20).equals(BT_PROTOCOL)).toBe(true);
    expect(handshake.subarray(28, 48).equals(key)).toBe(true);

    // Every datagram aria2 sent passed napshare's KRPC guard: the checks refuse no real client's traffic.
    expect(daemon.node.datagrams.received).toBeGreaterThan(0);
    expect(daemon.node.datagrams).toMatchObject({ malformed: 0, failed: 0 });
  });
});
