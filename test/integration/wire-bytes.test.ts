/**
 * Golden bytes on the wire: what napshare's servers and clients really send over TCP, compared
 * byte for byte with lines written out by hand from docs/protocol.md (its byte-exact examples and
 * "A whole session" transcript). Nothing here builds the expected bytes with napshare's code or
 * with JSON.stringify: a change of field order, spacing or framing fails these tests.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileServer } from '../../peer/file-server.ts';
import { IndexClient } from '../../peer/index-client.ts';
import { FolderCatalog } from '../../peer/shared-folder.ts';
import { download } from '../../peer/transfer/download.ts';
import { IndexServer, type IndexServerOptions } from '../../server/index-server.ts';
import { makeTempDir, removeTempDirs, writeRandomFile } from '../helpers/files.ts';
import { withDeadline } from '../helpers/wait.ts';
import { RecordingRelay } from './lan-group.ts';

const MiB = 1024 * 1024;
const closers: (() => unknown)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await removeTempDirs();
});

/** A raw TCP client: writes the bytes it is given, and checks the bytes it receives, in order. */
class RawClient {
  private received = Buffer.alloc(0);
  private read = 0;
  private wake: () => void = () => {};
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawClient(socket);
    closers.push(() => socket.destroy());
    return client;
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** The next `bytes.length` bytes received, which must be exactly `bytes`. */
  async expectNext(bytes: string | Buffer, who = 'client'): Promise<void> {
    const expected = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    const end = this.read + expected.length;
    await withDeadline(
      (async () => {
        while (this.received.length < end) await new Promise<void>((resolve) => (this.wake = resolve));
      })(),
      10_000,
      `${who} to receive ${JSON.stringify(expected.toString())} (got ${JSON.stringify(this.received.subarray(this.read).toString())})`,
    );
    expect(this.received.subarray(this.read, end).toString(), who).toBe(expected.toString());
    expect(this.received.subarray(this.read, end).equals(expected), who).toBe(true);
    this.read = end;
  }

  /** Everything received after what was checked, once the server closes. */
  async rest(): Promise<Buffer> {
    await this.closed;
    return this.received.subarray(this.read);
  }
}

async function startIndex(options: Partial<IndexServerOptions> = {}): Promise<IndexServer> {
  const server = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {}, ...options });
  closers.push(() => server.close());
  return server;
}

/** A file's version as docs/protocol.md defines it: `<size>-<modification time, ns>-<inode>`. */
async function versionOf(file: string): Promise<string> {
  const stat = await fs.stat(file, { bigint: true });
  return `${stat.size}-${stat.mtimeNs}-${stat.ino}`;
}

/** One request line to a file server; everything it sends back until it closes. */
async function askFileServer(port: number, line: string): Promise<Buffer> {
  const client = await RawClient.connect(port);
  client.send(line);
  return client.rest();
}

describe('index protocol (docs/protocol.md, "Index protocol")', () => {
  it('answers the byte-exact example', async () => {
    const server = await startIndex();
    const peer = await RawClient.connect(server.address().port);
    peer.send('{"type":"JOIN","ip":"127.0.0.1","port":8776,"files":["aula1.mp4","aula2.mp4"]}\n');
    await peer.expectNext('{"type":"JOIN_OK"}\n');
    peer.send('{"type":"SEARCH","file":"aula3.mp4"}\n');
    await peer.expectNext('{"type":"SEARCH_OK","peers":[]}\n');
    peer.send('{"type":"SEARCH","file":"aula1.mp4"}\n');
    await peer.expectNext('{"type":"SEARCH_OK","peers":["127.0.0.1:8776"]}\n');
    peer.send('{"type":"UPDATE","file":"c.mp4"}\n');
    await peer.expectNext('{"type":"UPDATE_OK"}\n');
  });

  it("is what napshare's peer sends: a PING as it connects, then JOIN and SEARCH", async () => {
    const server = await startIndex();
    const relay = await RecordingRelay.start(server.address().port);
    closers.push(() => relay.close());
    const client = await IndexClient.connect('127.0.0.1', relay.port, { reconnect: false });
    closers.push(() => client.close());
    await client.join('127.0.0.1', 8776, ['aula1.mp4', 'aula2.mp4']);
    expect(await client.search('aula3.mp4')).toEqual([]);
    expect(Buffer.concat(relay.fromClients).toString()).toBe(
      '{"type":"PING"}\n' +
        '{"type":"JOIN","ip":"127.0.0.1","port":8776,"files":["aula1.mp4","aula2.mp4"]}\n' +
        '{"type":"SEARCH","file":"aula3.mp4"}\n',
    );
    expect(Buffer.concat(relay.fromServer).toString()).toBe(
      '{"type":"PONG","timeoutMs":45000}\n{"type":"JOIN_OK"}\n{"type":"SEARCH_OK","peers":[]}\n',
    );
  });
});

describe('discovery (docs/protocol.md, "A whole session")', () => {
  it('replays the whole session: every line each client receives, byte for byte', async () => {
    const server = await startIndex({ maxPeers: 3 });
    const port = server.address().port;
    const clients = {
      ana: await RawClient.connect(port),
      bob: await RawClient.connect(port),
      course: await RawClient.connect(port),
    };
    type Who = keyof typeof clients;
    // The transcript as docs/protocol.md prints it; each client's lines arrive in this order.
    const session: [Who, '>' | '<', string][] = [
      ['ana', '>', '{"type":"JOIN","ip":"127.0.0.1","port":40001,"files":["aula1.mp4"],"alias":"ana"}'],
      ['ana', '<', '{"type":"JOIN_OK"}'],
      ['bob', '>', '{"type":"JOIN","ip":"127.0.0.1","port":40002,"files":[],"alias":"bob"}'],
      ['bob', '<', '{"type":"JOIN_OK"}'],
      ['course', '>', '{"type":"JOIN","ip":"127.0.0.1","port":8776,"files":["aula1.mp4"]}'],
      ['course', '<', '{"type":"JOIN_OK"}'],
      ['ana', '>', '{"type":"PING"}'],
      ['ana', '<', '{"type":"PONG","timeoutMs":45000}'],
      ['ana', '>', '{"type":"CHAT","text":"oi"}'],
      ['bob', '<', '{"type":"CHAT","alias":"ana","from":"127.0.0.1:40001","text":"oi"}'],
      ['ana', '<', '{"type":"CHAT_OK","delivered":1}'],
      ['bob', '>', '{"type":"ALIAS","alias":"bobby"}'],
      ['bob', '<', '{"type":"ALIAS_OK","alias":"bobby"}'],
      ['bob', '>', '{"type":"LIST"}'],
      [
        'bob',
        '<',
        '{"type":"LIST_OK","peers":[{"address":"127.0.0.1:40001","fileCount":1,"alias":"ana"},{"address":"127.0.0.1:40002","fileCount":0,"alias":"bobby"},{"address":"127.0.0.1:8776","fileCount":1}]}',
      ],
      ['bob', '>', '{"type":"QUERY","file":"aula1.mp4"}'],
      [
        'bob',
        '<',
        '{"type":"QUERY_OK","file":"aula1.mp4","peers":[{"address":"127.0.0.1:40001","alias":"ana"},{"address":"127.0.0.1:8776"}]}',
      ],
      ['bob', '>', '{"type":"SET_FILES","files":["notes.txt","aula1.mp4"]}'],
      ['bob', '<', '{"type":"SET_FILES_OK","fileCount":2}'],
      ['course', '>', '{"type":"CHAT","text":"hello?"}'],
      [
        'course',
        '<',
        '{"type":"ERROR","code":"BAD_REQUEST","message":"CHAT needs an alias: send ALIAS (or JOIN with one) first."}',
      ],
      ['bob', '>', '{"type":"LEAVE"}'],
      ['ana', '<', '{"type":"PEER_LEFT","address":"127.0.0.1:40002","reason":"left","alias":"bobby"}'],
      ['bob', '<', '{"type":"LEAVE_OK"}'],
    ];
    for (const [who, direction, line] of session) {
      if (direction === '>') clients[who].send(`${line}\n`);
      else await clients[who].expectNext(`${line}\n`, who);
    }
    clients.course.socket.end();
    await clients.ana.expectNext(
      '{"type":"PEER_LEFT","address":"127.0.0.1:8776","reason":"closed"}\n',
      'ana',
    );
    // The course peer received nothing but its own replies.
    expect(await clients.course.rest()).toEqual(Buffer.alloc(0));
  });

  it('relays CHAT as the 67 bytes of the hex dump', async () => {
    const server = await startIndex();
    const port = server.address().port;
    const ana = await RawClient.connect(port);
    const bob = await RawClient.connect(port);
    ana.send('{"type":"JOIN","ip":"127.0.0.1","port":40001,"files":[],"alias":"ana"}\n');
    bob.send('{"type":"JOIN","ip":"127.0.0.1","port":40002,"files":[],"alias":"bob"}\n');
    await ana.expectNext('{"type":"JOIN_OK"}\n');
    await bob.expectNext('{"type":"JOIN_OK"}\n');
    ana.send('{"type":"CHAT","text":"oi"}\n');
    const dump = `
      7b 22 74 79 70 65 22 3a 22 43 48 41 54 22 2c 22
      61 6c 69 61 73 22 3a 22 61 6e 61 22 2c 22 66 72
      6f 6d 22 3a 22 31 32 37 2e 30 2e 30 2e 31 3a 34
      30 30 30 31 22 2c 22 74 65 78 74 22 3a 22 6f 69
      22 7d 0a`;
    const bytes = Buffer.from(dump.replace(/\s+/g, ''), 'hex');
    expect(bytes).toHaveLength(67);
    await bob.expectNext(bytes, 'bob');
  });
});

describe('transfer protocol (docs/protocol.md, "Transfer protocol")', () => {
  it('answers INFO, DOWNLOAD (whole, from an offset, missing) and LIST byte for byte', async () => {
    const dir = await makeTempDir();
    await fs.writeFile(path.join(dir, 'aula1.mp4'), '0123456789');
    await fs.writeFile(path.join(dir, 'Aula 1 - Redes.mp4'), 'r');
    await fs.writeFile(path.join(dir, 'redes.pdf'), 'p');
    const server = await FileServer.start({ host: '127.0.0.1', port: 0, catalog: new FolderCatalog(dir) });
    closers.push(() => server.close());
    // `printf 0123456789 | sha256sum`: the whole file, and its only piece.
    const sha = '84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882';
    const version = await versionOf(path.join(dir, 'aula1.mp4'));
    expect((await askFileServer(server.port, '{"type":"INFO","file":"aula1.mp4"}\n')).toString()).toBe(
      `{"type":"INFO_OK","size":10,"sha256":"${sha}","pieceSize":4194304,"pieces":["${sha}"],"version":"${version}"}\n`,
    );
    expect((await askFileServer(server.port, '{"type":"DOWNLOAD","file":"aula1.mp4"}\n')).toString()).toBe(
      '{"type":"DOWNLOAD_OK","size":10}\n0123456789',
    );
    expect(
      (await askFileServer(server.port, '{"type":"DOWNLOAD","file":"aula1.mp4","offset":3}\n')).toString(),
    ).toBe('{"type":"DOWNLOAD_OK","size":7}\n3456789');
    expect((await askFileServer(server.port, '{"type":"DOWNLOAD","file":"x.mp4"}\n')).toString()).toBe(
      '{"type":"DOWNLOAD_REJECTED","reason":"NOT_FOUND","message":"No shared file named \\"x.mp4\\"."}\n',
    );
    expect((await askFileServer(server.port, '{"type":"LIST","keyword":"redes"}\n')).toString()).toBe(
      '{"type":"LIST_OK","files":["Aula 1 - Redes.mp4","redes.pdf"]}\n',
    );
  });

  it("is what napshare's downloader sends: INFO, then a DOWNLOAD of the missing piece when resuming", async () => {
    // 12 MiB: three 4 MiB pieces; the .part holds the first two, so only the third is asked.
    const source = await makeTempDir();
    await writeRandomFile(path.join(source, 'aula1.mp4'), 12 * MiB);
    const original = await fs.readFile(path.join(source, 'aula1.mp4'));
    const into = await makeTempDir();
    await fs.writeFile(path.join(into, 'aula1.mp4.part'), original.subarray(0, 8 * MiB));
    const server = await FileServer.start({ host: '127.0.0.1', port: 0, catalog: new FolderCatalog(source) });
    closers.push(() => server.close());
    const relay = await RecordingRelay.start(server.port);
    closers.push(() => relay.close());
    await download({ sources: [{ host: '127.0.0.1', port: relay.port }], file: 'aula1.mp4', folder: into });
    const version = await versionOf(path.join(source, 'aula1.mp4'));
    expect(Buffer.concat(relay.fromClients).toString()).toBe(
      '{"type":"INFO","file":"aula1.mp4"}\n' +
        `{"type":"DOWNLOAD","file":"aula1.mp4","offset":8388608,"length":4194304,"version":"${version}"}\n`,
    );
    const got = await fs.readFile(path.join(into, 'aula1.mp4'));
    expect(createHash('sha256').update(got).digest('hex')).toBe(
      createHash('sha256').update(original).digest('hex'),
    );
  });
});
