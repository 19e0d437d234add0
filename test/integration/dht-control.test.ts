/**
 * A daemon driven through its real control socket (net.connect, as netcat does): every command,
 * several clients at once, and clients that misbehave (unknown commands, binary data, a line over
 * 64 KiB) while the daemon goes on.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELP_LINES } from '../../peer/dht/control-commands.ts';
import type { DhtDaemon } from '../../peer/dht/daemon.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { ControlClient, startNetwork } from './dht-helpers.ts';

let holder: DhtDaemon;
let daemon: DhtDaemon;
let workDir: string;
let digest: string;
const clients: ControlClient[] = [];

async function connect(): Promise<ControlClient> {
  const client = await ControlClient.connect(daemon.control?.port as number);
  clients.push(client);
  return client;
}

/** Everything the daemon sends until it closes the connection. */
function readToClose(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

beforeAll(async () => {
  workDir = await makeTempDir();
  await fs.mkdir(path.join(workDir, 'shared'));
  digest = await writeRandomFile(path.join(workDir, 'shared', 'Lecture Notes.pdf'), 120_000);
  // `publish DIR` is relative to the daemon's working directory: here, workDir.
  [holder, daemon] = (await startNetwork(2, { controlPort: 0, cwd: workDir })) as [DhtDaemon, DhtDaemon];
});

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all([holder?.close(), daemon?.close()]);
  await removeTempDirs();
});

describe('the control socket', () => {
  it('answers every command, each answer ended by an empty line', async () => {
    const client = await connect();
    expect(await client.ask('help')).toEqual(HELP_LINES);
    expect(await client.ask('publish shared')).toEqual(['Published 1 file from shared.']);
    expect(await client.ask('publish no-such-folder')).toEqual([
      'The folder no-such-folder does not exist or is not a folder.',
    ]);
    const status = await client.ask('status');
    expect(status[0]).toBe(`Node id ${daemon.node.id}`);
    expect(status.slice(2)).toEqual([
      'Routing table: 1 node',
      expect.stringMatching(/^Datagrams: \d+ received, 0 malformed dropped, 0 the DHT library failed on$/),
      'Published: 1 file under 4 keys',
      'Not announced yet: 0 keys',
      '  Lecture Notes.pdf',
    ]);
    const self = `127.0.0.1:${daemon.fileServer.port}`;
    expect(await client.ask('search lecture')).toEqual(['lecture found.', `${self} Lecture Notes.pdf`]);
    expect(await client.ask('search nope')).toEqual(['Cannot find nope']);
  });

  it('get downloads into --dir from a holder found in the DHT (SHA-256 equal)', async () => {
    const other = await holder.run(`publish ${path.join(workDir, 'shared')}`);
    expect(other.lines[0]).toMatch(/^Published 1 file/);
    // Remove the daemon's own copy from the candidates: it must fetch from the other holder.
    const client = await connect();
    await client.ask('clean');
    const answer = await client.ask('get Lecture Notes.pdf');
    const saved = path.join(daemon.dir, 'Lecture Notes.pdf');
    expect(answer).toEqual([
      `Downloaded Lecture Notes.pdf (120 kB) from 127.0.0.1:${holder.fileServer.port} to ${saved}`,
    ]);
    expect(await sha256File(saved)).toBe(digest);
  });

  it('an unknown command gets one line with the help hint and the connection stays open', async () => {
    const client = await connect();
    expect(await client.ask('dance')).toEqual([
      'Unknown command "dance"; type help for the list of commands.',
    ]);
    expect(await client.ask('search')).toEqual([
      'search needs a keyword (usage: search [--all] KEYWORD); type help for the list of commands.',
    ]);
    // A name that would leave the download folder is refused before anything is looked up.
    expect(await client.ask('get ../../etc/passwd')).toEqual([
      'Unsafe file name "../../etc/passwd": the name contains a path separator.',
    ]);
    expect((await client.ask('status'))[0]).toMatch(/^Node id /);
  });

  it('serves several clients at once, each in its own order', async () => {
    const many = await Promise.all(Array.from({ length: 8 }, () => connect()));
    // Each client pipelines three commands in one write; the answers come back in order.
    for (const client of many) client.socket.write('status\nsearch nope\nhelp\n');
    for (const client of many) {
      expect((await client.next())[0]).toMatch(/^Node id /);
      expect(await client.next()).toEqual(['Cannot find nope']);
      expect(await client.next()).toEqual(HELP_LINES);
    }
  });

  it('answers every line of a script that closes its side after the last one (printf ... | nc)', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: daemon.control?.port as number });
    const all = readToClose(socket);
    // The last command has no newline: it still counts.
    socket.end('\n\nsearch nope\nquit');
    expect(await all).toBe('Cannot find nope\n\nBye.\n\n');
  });

  it('quit closes this client only', async () => {
    const leaving = await connect();
    const staying = await connect();
    expect(await leaving.ask('quit')).toEqual(['Bye.']);
    await leaving.closed;
    expect((await staying.ask('status'))[0]).toMatch(/^Node id /);
  });

  it('cuts off a client that sends binary data; the others go on', async () => {
    const bystander = await connect();
    const socket = net.connect({ host: '127.0.0.1', port: daemon.control?.port as number });
    const all = readToClose(socket);
    socket.write(Buffer.concat([Buffer.from('status\n'), randomBytes(4096)]));
    const text = await all;
    expect(text.endsWith('Connection closed: binary data is not a command.\n\n')).toBe(true);
    expect((await bystander.ask('status'))[0]).toMatch(/^Node id /);
  });

  it('cuts off invalid UTF-8 even without a NUL byte', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: daemon.control?.port as number });
    const all = readToClose(socket);
    socket.write(Buffer.from([0x73, 0x74, 0xff, 0xfe, 0x0a]));
    expect(await all).toBe('Connection closed: binary data is not a command.\n\n');
  });

  it('cuts off a line over 64 KiB, before its newline arrives', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: daemon.control?.port as number });
    const all = readToClose(socket);
    socket.write(`search ${'x'.repeat(64 * 1024)}`);
    expect(await all).toBe('Connection closed: a line is longer than 64 KiB.\n\n');
    const client = await connect();
    expect((await client.ask('status'))[0]).toMatch(/^Node id /);
  });

  it('a line of exactly 64 KiB is still a command', async () => {
    const client = await connect();
    const line = `search ${'y'.repeat(64 * 1024 - 'search '.length)}`;
    expect(Buffer.byteLength(line)).toBe(64 * 1024);
    expect(await client.ask(line)).toEqual([`Cannot find ${'y'.repeat(64 * 1024 - 'search '.length)}`]);
  });
});
