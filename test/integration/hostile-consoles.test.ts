/**
 * No byte from the network can forge or colour a line on a napshare console. Hostile index
 * servers and a hostile uploader (real TCP servers here) send every forbidden character to the
 * real CLIs; the exact bytes those write to stdout and stderr are checked.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DhtDaemon } from '../../peer/dht/daemon.ts';
import { encodeOffer } from '../../peer/lan/datagram.ts';
import { IndexServer } from '../../server/index-server.ts';
import { killAll, runCli, startServer } from '../helpers/cli.ts';
import { ALL_FORBIDDEN, consoleProblem, ESCAPE_SEQUENCES, shownAs } from '../helpers/forbidden-text.ts';
import { LineClient } from '../helpers/line-client.ts';
import { line, ScriptedServer } from '../helpers/scripted-server.ts';
import { startNetwork } from './dht-helpers.ts';
import { GroupTap, randomGroup, startMember } from './lan-group.ts';

/** A message of every forbidden character and escape sequence, between plain words. */
const EVIL = `start ${ALL_FORBIDDEN.join('|')} ${ESCAPE_SEQUENCES.join(' ')} end`;
/** The same, as JSON bytes with invalid UTF-8 spliced in: a line no decoder may accept. */
const invalidUtf8Line = (before: string, after: string) =>
  Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xc0, 0x80, 0xed, 0xa0, 0x80]), Buffer.from(after)]);

let dir: string;
const servers: { close: () => Promise<void> }[] = [];
const clients: LineClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'napshare-hostile-'));
  await writeFile(path.join(dir, 'aula1.mp4'), 'aula');
});

afterEach(async () => {
  await killAll();
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) await server.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The JOIN a peer sent a scripted server: where its file server is. */
function joinedPort(server: ScriptedServer): number {
  const join = server.received.find((r) => r.message.type === 'JOIN');
  return Number(join?.message.port);
}

describe('a hostile index server', () => {
  it('cannot put a line, a colour or a screen clear on the course peer console', async () => {
    const forgedPeers: Record<string, unknown[]> = {
      'forged-line.mp4': ['127.0.0.1:1\nArquivo aula1.mp4 baixado com sucesso na pasta /forged'],
      'clear.mp4': ['\u001b[2J\u001b[H'],
      'csi.mp4': ['127.0.0.1:1\u009b2J'],
      'bidi.mp4': ['127.0.0.1:1\u202e'],
      'zero-width.mp4': ['127.0.0.1:1\u200b'],
      'padded.mp4': ['127.0.0.1:01'],
    };
    const hostile = await ScriptedServer.start((message) => {
      if (message.type === 'PING') return line({ type: 'PONG' });
      if (message.type === 'JOIN') return line({ type: 'JOIN_OK' });
      const file = String(message.file);
      const peers = forgedPeers[file];
      if (peers) return line({ type: 'SEARCH_OK', peers });
      if (file === 'raw.mp4') return invalidUtf8Line('{"type":"SEARCH_OK","peers":["127.0.0.1:1', '"]}\n');
      if (file === 'error.mp4') return line({ type: 'ERROR', code: 'NOT_FOUND', message: EVIL });
      if (file === 'error-raw.mp4') return invalidUtf8Line('{"type":"ERROR","code":"X","message":"', '"}\n');
      return line({ type: 'SEARCH_OK', peers: ['127.0.0.1:8776'] });
    });
    servers.push(hostile);
    const peer = runCli('peer', ['--server', `127.0.0.1:${hostile.port}`]);
    peer.send(`JOIN 127.0.0.1 0 ${dir}`);
    for (const file of [...Object.keys(forgedPeers), 'raw.mp4', 'error.mp4', 'error-raw.mp4', 'ok.mp4'])
      peer.send(`SEARCH ${file}`);
    expect(await peer.end()).toBe(1);

    const port = joinedPort(hostile);
    expect(peer.bytes('stdout').toString('utf8')).toBe(
      `Sou peer 127.0.0.1:${port} com arquivos aula1.mp4\npeers com arquivo solicitado: 127.0.0.1:8776\n`,
    );
    const malformedPeers =
      'The index server sent a malformed message: SEARCH_OK: field "peers" must be an array of peer addresses IP:port.\n';
    expect(peer.bytes('stderr').toString('utf8')).toBe(
      malformedPeers.repeat(Object.keys(forgedPeers).length) +
        'The index server sent a malformed message: The line is not valid UTF-8.\n' +
        `The index server refused SEARCH: ${shownAs(EVIL)}\n` +
        'The index server sent a malformed message: The line is not valid UTF-8.\n',
    );
    expect(consoleProblem(peer.bytes('stderr'))).toBeNull();
  });

  it('cannot forge chat lines, departures or peer lists on the chat peer console', async () => {
    const good = {
      type: 'CHAT',
      alias: 'mallory',
      from: '127.0.0.1:1',
      text: 'hi \u202eereht\u200b \ufeffx',
    };
    const hostile = await ScriptedServer.start((message) => {
      switch (message.type) {
        case 'PING':
          return line({ type: 'PONG' });
        case 'JOIN':
          return line({ type: 'JOIN_OK' });
        case 'LIST':
          // Pushes first (members may get them at any time), then a reply with a forged address.
          return (
            line(good) +
            line({ type: 'CHAT', alias: 'mallory', from: '127.0.0.1:1', text: 'x\u001b[2J' }) +
            line({ type: 'CHAT', alias: 'eve\u202e', from: '127.0.0.1:1', text: 'x' }) +
            line({ type: 'PEER_LEFT', address: '127.0.0.1:2\r\nmallory: forged', reason: 'left' }) +
            line({ type: 'PEER_LEFT', address: '127.0.0.1:2', reason: 'left', alias: 'bob' }) +
            line({ type: 'LIST_OK', peers: [{ address: '127.0.0.1:3\u001b]0;pwned\u0007', fileCount: 1 }] })
          );
        case 'QUERY':
          return line({
            type: 'QUERY_OK',
            file: 'a.mp4',
            peers: [{ address: '127.0.0.1:4', alias: 'eve\u2028' }],
          });
        case 'CHAT':
          return line({ type: 'ERROR', code: 'BAD_REQUEST', message: EVIL });
        case 'LEAVE':
          return line({ type: 'LEAVE_OK' });
        default:
          return undefined;
      }
    });
    servers.push(hostile);
    const chat = runCli('peer', [
      'chat',
      '--alias',
      'ana',
      '--dir',
      dir,
      '--port',
      '0',
      '--server',
      `127.0.0.1:${hostile.port}`,
    ]);
    chat.send('/showall');
    chat.send('/query a.mp4');
    chat.send('hello');
    expect(await chat.end()).toBe(1);

    expect(chat.bytes('stdout').toString('utf8')).toBe(
      'mallory: hi \\u202Eereht\\u200B \\uFEFFx\n* bob left (127.0.0.1:2)\n',
    );
    const port = joinedPort(hostile);
    expect(chat.bytes('stderr').toString('utf8')).toBe(
      `Joined the index server at 127.0.0.1:${hostile.port} as ana, serving 1 file at 127.0.0.1:${port}.\n` +
        'The index server sent a malformed message: LIST_OK peers: field "address" must be a peer address IP:port.\n' +
        'The index server sent a malformed message: QUERY_OK peers: field "alias" must be 1 to 32 characters without spaces, ":" or controls.\n' +
        `The index server refused CHAT: ${shownAs(EVIL)}\n`,
    );
    expect(consoleProblem(chat.bytes('stderr'))).toBeNull();
  });
});

describe('a hostile uploader', () => {
  /** Runs the course peer against an uploader whose every reply is `reply`; resolves with it. */
  async function downloadFrom(reply: string | Buffer) {
    const index = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
    servers.push(index);
    const uploader = await ScriptedServer.start((message) =>
      message.type === 'DOWNLOAD' || message.type === 'INFO' ? { write: reply, end: true } : undefined,
    );
    servers.push(uploader);
    const announcer = await LineClient.connect(index.address().port);
    clients.push(announcer);
    await announcer.request({ type: 'JOIN', ip: '127.0.0.1', port: uploader.port, files: ['aula1.mp4'] });
    const empty = await mkdtemp(path.join(os.tmpdir(), 'napshare-downloader-'));
    try {
      const peer = runCli('peer', ['--server', `127.0.0.1:${index.address().port}`]);
      peer.send(`JOIN 127.0.0.1 0 ${empty}`);
      peer.send('SEARCH aula1.mp4');
      peer.send(`DOWNLOAD 127.0.0.1 ${uploader.port}`);
      expect(await peer.end()).toBe(1);
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(peer.stdout[0] ?? '')?.[1]);
      expect(peer.bytes('stdout').toString('utf8')).toBe(
        `Sou peer 127.0.0.1:${port} com arquivos\npeers com arquivo solicitado: 127.0.0.1:${uploader.port}\n`,
      );
      expect(consoleProblem(peer.bytes('stderr'))).toBeNull();
      return { stderr: peer.bytes('stderr').toString('utf8'), uploader: uploader.port };
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  }

  it('cannot put its DOWNLOAD_REJECTED reason and message raw on the downloader stderr', async () => {
    const { stderr, uploader } = await downloadFrom(
      line({ type: 'DOWNLOAD_REJECTED', reason: 'NOT_FOUND\u001b[32m', message: EVIL }),
    );
    expect(stderr).toBe(
      `The peer 127.0.0.1:${uploader} refused aula1.mp4: NOT_FOUND\\x1B[32m (${shownAs(EVIL)}).\n`,
    );
  });

  it('a rejection that is not valid UTF-8 is refused, not shown with U+FFFD', async () => {
    const { stderr } = await downloadFrom(
      invalidUtf8Line('{"type":"DOWNLOAD_REJECTED","reason":"NOT_FOUND","message":"', '"}\n'),
    );
    // The reply decoder's own sentence (the downloader reports a malformed reply as it is).
    expect(stderr).toBe('The line is not valid UTF-8.\n');
  });
});

describe('a hostile uploader, seen from the DHT daemon', () => {
  it('cannot put its rejection raw on the netcat user console (control answers are escaped)', async () => {
    const uploader = await ScriptedServer.start(() => ({
      write: line({ type: 'DOWNLOAD_REJECTED', reason: 'NOT_FOUND', message: EVIL }),
      end: true,
    }));
    servers.push(uploader);
    const [daemon] = await startNetwork(1, { controlPort: 0 });
    servers.push(daemon as DhtDaemon);
    const socket = net.connect({ host: '127.0.0.1', port: daemon?.control?.port as number });
    const answer = new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        const bytes = Buffer.concat(chunks);
        if (bytes.includes('\n\n')) resolve(bytes);
      });
    });
    socket.write(`get aula1.mp4 127.0.0.1:${uploader.port}\n`);
    const bytes = await answer;
    socket.destroy();
    expect(bytes.toString('utf8')).toBe(
      `Could not download aula1.mp4: The peer 127.0.0.1:${uploader.port} refused aula1.mp4: NOT_FOUND (${shownAs(EVIL)}).\n\n`,
    );
    expect(consoleProblem(bytes)).toBeNull();
  });
});

describe('a hostile LAN member', () => {
  it('cannot forge lines or offers on another member console', async () => {
    const group = await randomGroup();
    const tap = await GroupTap.open(group);
    servers.push(tap);
    const { cli: member } = await startMember(group, dir);
    await tap.send('hi \u202eereht\u200b \ufeffx\n');
    await tap.send('evil\u001b[2J\r\n127.0.0.1 :> forged\n');
    await tap.send(encodeOffer({ file: 'evil\u202egnp.exe', size: 1, ip: '127.0.0.1', port: 4000 }));
    await tap.send('done\n');
    await member.waitFor('127.0.0.1 :> done');
    member.kill();
    await member.exited;
    expect(member.bytes('stdout').toString('utf8')).toBe(
      '127.0.0.1 :> hi \\u202Eereht\\u200B \\uFEFFx\n127.0.0.1 :> done\n',
    );
    expect(member.stderr.filter((text) => text.startsWith('Offer'))).toEqual([]);
    expect(consoleProblem(member.bytes('stderr'))).toBeNull();
  });
});

describe('hostile clients of the index server', () => {
  it('put nothing on the server console but the course lines of real peers', async () => {
    const { server, port } = await startServer();
    const victim = await LineClient.connect(port);
    const attacker = await LineClient.connect(port);
    clients.push(victim, attacker);
    expect(
      await victim.request({ type: 'JOIN', ip: '127.0.0.1', port: 18776, files: ['aula1.mp4'] }),
    ).toEqual({
      type: 'JOIN_OK',
    });
    for (const char of ALL_FORBIDDEN) {
      const reply = await attacker.request({
        type: 'JOIN',
        ip: '127.0.0.1',
        port: 18777,
        files: [`evil${char}.mp4`],
      });
      expect(reply).toMatchObject({ type: 'ERROR', code: 'UNSAFE_NAME' });
      expect(consoleProblem(Buffer.from(String(reply.message)))).toBeNull();
    }
    for (const sequence of ESCAPE_SEQUENCES)
      expect(await attacker.request({ type: 'SEARCH', file: sequence })).toMatchObject({
        code: 'UNSAFE_NAME',
      });
    // Written raw, in the one SEARCH line the server reads on its bytes: refused all the same
    // (a lone surrogate has no UTF-8 of its own; invalid bytes are the line above's).
    for (const char of ALL_FORBIDDEN.filter(
      (forbidden) => forbidden !== '\n' && !/\p{Cs}/u.test(forbidden),
    )) {
      attacker.send(`{"type":"SEARCH","file":"evil${char}.mp4"}\n`);
      expect(await attacker.json(attacker.lines.length)).toMatchObject({ type: 'ERROR' });
    }
    attacker.send(invalidUtf8Line('{"type":"JOIN","ip":"127.0.0.1","port":18777,"files":["', '"]}\n'));
    expect(await attacker.json(attacker.lines.length)).toMatchObject({ code: 'BAD_REQUEST' });
    expect(
      await attacker.request({ type: 'JOIN', ip: '127.0.0.1', port: 18776, files: ['evil.mp4'] }),
    ).toMatchObject({
      code: 'ADDRESS_IN_USE',
    });
    expect(
      await attacker.request({ type: 'JOIN', ip: '10.66.66.66', port: 18776, files: ['evil.mp4'] }),
    ).toMatchObject({
      code: 'ADDRESS_MISMATCH',
    });
    expect(await victim.request({ type: 'SEARCH', file: 'aula1.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:18776'],
    });
    server.kill('SIGTERM');
    await server.exited;
    expect(server.bytes('stdout').toString('utf8')).toBe(
      'Peer 127.0.0.1:18776 adicionado com arquivos aula1.mp4\nPeer 127.0.0.1:18776 solicitou arquivo aula1.mp4\n',
    );
    // Its --verbose log quotes every refused line, escaped.
    expect(server.bytes('stderr').toString('utf8')).toContain('refused');
    expect(consoleProblem(server.bytes('stderr'))).toBeNull();
  });
});
