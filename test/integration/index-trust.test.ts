/**
 * The index server over real sockets lists only addresses it checked: the announced IP is the
 * connection's own, nobody can take a live peer's address or alias, budgets refuse all or nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IndexServer, type IndexServerOptions } from '../../server/index-server.ts';
import { killAll, runCli } from '../helpers/cli.ts';
import { LineClient } from '../helpers/line-client.ts';
import { waitSince } from '../helpers/wait.ts';

/** The server's PROBE timeout here: short for the test, long enough for a busy runner. */
const PROBE_MS = 400;

let server: IndexServer;
let printed: string[];
const clients: LineClient[] = [];

async function start(options: Partial<IndexServerOptions> = {}): Promise<void> {
  await server?.close();
  printed = [];
  server = await IndexServer.start({
    host: '127.0.0.1',
    port: 0,
    print: (line) => printed.push(line),
    probeTimeoutMs: PROBE_MS,
    ...options,
  });
}

async function client(localAddress?: string): Promise<LineClient> {
  const c = await LineClient.connect(server.address().port, '127.0.0.1', localAddress);
  clients.push(c);
  return c;
}

function join(port: number, files: string[] = [], extra: object = {}) {
  return { type: 'JOIN', ip: '127.0.0.1', port, files, ...extra };
}

beforeEach(() => start());

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
});

describe('announced addresses', () => {
  it("a JOIN must announce its connection's IP: ADDRESS_MISMATCH says what to type; nothing printed", async () => {
    const peer = await client();
    for (const [ip, port] of [
      ['127.0.0.2', 8776],
      ['10.66.66.66', 8776],
      ['8.8.8.8', 53],
    ] as const) {
      expect(await peer.request({ type: 'JOIN', ip, port, files: ['evil.mp4'] })).toEqual({
        type: 'ERROR',
        code: 'ADDRESS_MISMATCH',
        message: `The announced IP ${ip} is not the address this connection comes from; JOIN with IP 127.0.0.1.`,
      });
    }
    expect(printed).toEqual([]);
    // A peer really at 127.0.0.2 (loopback holds all of 127.0.0.0/8) is listed there.
    const other = await client('127.0.0.2');
    expect(await other.request({ type: 'JOIN', ip: '127.0.0.2', port: 8777, files: ['a.mp4'] })).toEqual({
      type: 'JOIN_OK',
    });
    expect(await other.request({ type: 'SEARCH', file: 'a.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.2:8777'],
    });
    expect(printed).toEqual([
      'Peer 127.0.0.2:8777 adicionado com arquivos a.mp4',
      'Peer 127.0.0.2:8777 solicitou arquivo a.mp4',
    ]);
  });

  it('the course peer that types another IP than its own is told, on stderr, which one to type', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'napshare-mismatch-'));
    try {
      const peer = runCli('peer', ['--server', `127.0.0.1:${server.address().port}`]);
      peer.send(`JOIN 127.0.0.2 0 ${dir}`);
      expect(await peer.end()).toBe(1);
      expect(peer.bytes('stdout').toString()).toBe('');
      expect(peer.bytes('stderr').toString()).toBe(
        'The index server refused JOIN: The announced IP 127.0.0.2 is not the address this connection comes from; JOIN with IP 127.0.0.1.\n',
      );
      expect(printed).toEqual([]);
    } finally {
      await killAll();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with trustAnnouncedIp (behind a proxy) any unicast IP is listed, never an unusable one', async () => {
    await start({ trustAnnouncedIp: true });
    const peer = await client();
    expect(await peer.request({ type: 'JOIN', ip: '10.66.66.66', port: 8776, files: ['a.mp4'] })).toEqual({
      type: 'JOIN_OK',
    });
    expect(await peer.request({ type: 'JOIN', ip: '255.255.255.255', port: 8776, files: [] })).toMatchObject({
      code: 'BAD_ADDRESS',
    });
    expect(await peer.request({ type: 'SEARCH', file: 'a.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['10.66.66.66:8776'],
    });
  });

  it.each([
    ['0.0.0.0', 8776, 'an unspecified address'],
    ['255.255.255.255', 8776, 'the broadcast address'],
    ['224.0.0.251', 5353, 'a multicast address'],
    ['127.0.0.1', 0, 'port 0'],
  ])('JOIN %s port %i gets BAD_ADDRESS with one clear sentence', async (ip, port, why) => {
    const peer = await client();
    expect(await peer.request({ type: 'JOIN', ip, port, files: ['a.mp4'] })).toEqual({
      type: 'ERROR',
      code: 'BAD_ADDRESS',
      message: `No peer can connect to ${ip}:${port} (${why}); announce the address your file server listens on.`,
    });
    expect(printed).toEqual([]);
  });
});

describe('no takeovers', () => {
  it("a course peer's address cannot be taken: ADDRESS_IN_USE, the victim keeps its entry, no line in its name", async () => {
    const victim = await client();
    const attacker = await client();
    const other = await client();
    await victim.request(join(18776, ['aula1.mp4']));
    await other.request(join(18777));
    expect(await attacker.request(join(18776, ['evil.mp4', 'aula1-fake.mp4']))).toEqual({
      type: 'ERROR',
      code: 'ADDRESS_IN_USE',
      message: 'Another peer is joined as 127.0.0.1:18776 and still connected; JOIN with another port.',
    });
    expect(await attacker.request({ type: 'SEARCH', file: 'aula1.mp4' })).toMatchObject({
      code: 'NOT_JOINED',
    });
    expect(await other.request({ type: 'SEARCH', file: 'aula1.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:18776'],
    });
    expect(await other.request({ type: 'SEARCH', file: 'evil.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: [],
    });
    expect(printed).toEqual([
      'Peer 127.0.0.1:18776 adicionado com arquivos aula1.mp4',
      'Peer 127.0.0.1:18777 adicionado com arquivos',
      'Peer 127.0.0.1:18777 solicitou arquivo aula1.mp4',
      'Peer 127.0.0.1:18777 solicitou arquivo evil.mp4',
    ]);
    // A course peer never PINGed: it is never sent a line it did not ask for.
    expect(victim.lines).toEqual(['{"type":"JOIN_OK"}']);
    // After the attacker has gone, the victim is still there.
    attacker.close();
    await attacker.closed;
    expect(await victim.request({ type: 'SEARCH', file: 'aula1.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:18776'],
    });
  });

  it('a heartbeat peer heard just now keeps its address without being asked', async () => {
    const victim = await client();
    await victim.request(join(18780, ['a.mp4']));
    await victim.request({ type: 'PING' });
    const attacker = await client();
    expect(await attacker.request(join(18780))).toMatchObject({ code: 'ADDRESS_IN_USE' });
    expect(victim.lines).toHaveLength(2);
  });

  it('a heartbeat peer quiet for a while is sent one PROBE; its answer keeps its entry', async () => {
    const victim = await client();
    await victim.request(join(18781, ['a.mp4']));
    await victim.request({ type: 'PING' });
    await waitSince(performance.now(), PROBE_MS, 'the victim last spoke');
    const attacker = await client();
    const refused = attacker.request(join(18781, ['evil.mp4']));
    // Exactly these bytes, then the victim answers (napshare's peers send PING).
    expect(await victim.line(2)).toBe('{"type":"PROBE"}');
    victim.send({ type: 'PING' });
    expect(await refused).toMatchObject({ code: 'ADDRESS_IN_USE' });
    expect(await victim.json(3)).toMatchObject({ type: 'PONG' });
    expect(await attacker.request({ type: 'LIST' })).toMatchObject({ code: 'NOT_JOINED' });
    const checker = await client();
    await checker.request(join(18782));
    expect(await checker.request({ type: 'SEARCH', file: 'a.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:18781'],
    });
  });

  it('a heartbeat peer that does not answer the PROBE is gone: dropped, announced, its address free', async () => {
    const member = await client();
    await member.request(join(18790, [], { alias: 'ana' }));
    const vanished = await client();
    await vanished.request(join(18791, ['old.mp4'], { alias: 'bob' }));
    await vanished.request({ type: 'PING' });
    await waitSince(performance.now(), PROBE_MS, 'the victim last spoke');
    const restarted = await client();
    const asked = performance.now();
    expect(await restarted.request(join(18791, ['new.mp4'], { alias: 'bob' }))).toEqual({ type: 'JOIN_OK' });
    expect(performance.now() - asked).toBeGreaterThanOrEqual(PROBE_MS - 1);
    expect(vanished.lines.at(-1)).toBe('{"type":"PROBE"}');
    await vanished.closed;
    expect(await member.json(1)).toEqual({
      type: 'PEER_LEFT',
      address: '127.0.0.1:18791',
      reason: 'timeout',
      alias: 'bob',
    });
    expect(await member.request({ type: 'QUERY', file: 'new.mp4' })).toEqual({
      type: 'QUERY_OK',
      file: 'new.mp4',
      peers: [{ address: '127.0.0.1:18791', alias: 'bob' }],
    });
    expect(printed.at(-1)).toBe('Peer 127.0.0.1:18791 adicionado com arquivos new.mp4');
  });

  it('a holder whose connection just closed is gone at once, even before the close is processed', async () => {
    const old = await client();
    await old.request(join(18795, ['a.mp4']));
    await old.request({ type: 'PING' });
    old.close();
    const restarted = await client();
    expect(await restarted.request(join(18795, ['b.mp4']))).toEqual({ type: 'JOIN_OK' });
    expect(await restarted.request({ type: 'SEARCH', file: 'a.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: [],
    });
  });

  it('aliases are unique ignoring case and width: ALIAS_TAKEN, on JOIN and on ALIAS', async () => {
    const ana = await client();
    await ana.request(join(18800, [], { alias: 'Ana' }));
    const bob = await client();
    expect(await bob.request(join(18801, ['x.mp4'], { alias: 'ANA' }))).toEqual({
      type: 'ERROR',
      code: 'ALIAS_TAKEN',
      message: 'The alias "ANA" is taken by another peer (aliases ignore case and width); choose another.',
    });
    expect(printed).toEqual(['Peer 127.0.0.1:18800 adicionado com arquivos']);
    await bob.request(join(18801, [], { alias: 'bob' }));
    expect(await bob.request({ type: 'ALIAS', alias: '\uff41\uff4e\uff41' })).toMatchObject({
      code: 'ALIAS_TAKEN',
    });
    expect(await bob.request({ type: 'LIST' })).toEqual({
      type: 'LIST_OK',
      peers: [
        { address: '127.0.0.1:18800', fileCount: 0, alias: 'Ana' },
        { address: '127.0.0.1:18801', fileCount: 0, alias: 'bob' },
      ],
    });
  });
});

describe('budgets over the wire', () => {
  it('over each budget: its stable code, nothing half-applied, the others still served', async () => {
    await start({ maxFilesPerPeer: 3, maxNameBytesPerPeer: 24, maxEntries: 5 });
    const keeper = await client();
    await keeper.request(join(18810, ['keep.mp4', 'both.mp4']));
    const greedy = await client();
    expect(await greedy.request(join(18811, ['a', 'b', 'c', 'd']))).toMatchObject({
      type: 'ERROR',
      code: 'TOO_MANY_FILES',
    });
    expect(await greedy.request(join(18811, ['a-very-long-file-name.mp4']))).toMatchObject({
      code: 'TOO_MANY_NAME_BYTES',
    });
    // The refused JOINs changed nothing: not joined, nothing listed, nothing printed.
    expect(await greedy.request({ type: 'SEARCH', file: 'a' })).toMatchObject({ code: 'NOT_JOINED' });
    expect(await keeper.request({ type: 'LIST' })).toEqual({
      type: 'LIST_OK',
      peers: [{ address: '127.0.0.1:18810', fileCount: 2 }],
    });
    expect(printed).toEqual(['Peer 127.0.0.1:18810 adicionado com arquivos keep.mp4 both.mp4']);

    expect(await greedy.request(join(18811, ['a', 'both.mp4']))).toEqual({ type: 'JOIN_OK' });
    // 4 entries of 5: a newcomer's two new names are refused whole, nothing of them kept.
    const newcomer = await client();
    expect(await newcomer.request(join(18812, ['n', 'm']))).toMatchObject({ code: 'INDEX_FULL' });
    expect(await newcomer.request({ type: 'SEARCH', file: 'n' })).toMatchObject({ code: 'NOT_JOINED' });
    expect(await greedy.request({ type: 'UPDATE', file: 'c' })).toEqual({ type: 'UPDATE_OK' });
    // 5 entries: every new name is refused, a re-JOIN or SET_FILES over a budget changes nothing.
    expect(await keeper.request({ type: 'UPDATE', file: 'x' })).toMatchObject({ code: 'INDEX_FULL' });
    expect(await greedy.request({ type: 'UPDATE', file: 'd' })).toMatchObject({ code: 'TOO_MANY_FILES' });
    expect(await greedy.request({ type: 'SET_FILES', files: ['w', 'x', 'y', 'z'] })).toMatchObject({
      code: 'TOO_MANY_FILES',
    });
    expect(await greedy.request(join(18811, ['a', 'b', 'c', 'd']))).toMatchObject({ code: 'TOO_MANY_FILES' });
    expect(await greedy.request({ type: 'SET_FILES', files: ['a', 'c', 'both.mp4', 'e'] })).toMatchObject({
      code: 'TOO_MANY_FILES',
    });
    expect(await keeper.request({ type: 'QUERY', file: 'both.mp4' })).toEqual({
      type: 'QUERY_OK',
      file: 'both.mp4',
      peers: [{ address: '127.0.0.1:18810' }, { address: '127.0.0.1:18811' }],
    });
    expect(await keeper.request({ type: 'LIST' })).toEqual({
      type: 'LIST_OK',
      peers: [
        { address: '127.0.0.1:18810', fileCount: 2 },
        { address: '127.0.0.1:18811', fileCount: 3 },
      ],
    });
    // Others are still served: a JOIN that adds no name, a SEARCH.
    expect(await newcomer.request(join(18812))).toEqual({ type: 'JOIN_OK' });
    expect(await newcomer.request({ type: 'SEARCH', file: 'keep.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:18810'],
    });
    expect((await server.registry.counts()).entries).toBe(5);
  });
});

describe('what a client sends is checked before anything is printed', () => {
  it('invalid UTF-8 inside a JSON string is BAD_REQUEST (not U+FFFD); the connection stays usable', async () => {
    const peer = await client();
    const bad = Buffer.concat([
      Buffer.from('{"type":"JOIN","ip":"127.0.0.1","port":18820,"files":["aula1'),
      Buffer.from([0xff, 0xc0, 0x80]),
      Buffer.from('.mp4"]}\n'),
    ]);
    peer.send(bad);
    expect(await peer.json(0)).toEqual({
      type: 'ERROR',
      code: 'BAD_REQUEST',
      message: 'The line is not valid UTF-8.',
    });
    expect(await peer.request(join(18820, ['aula1.mp4']))).toEqual({ type: 'JOIN_OK' });
    expect(printed).toEqual(['Peer 127.0.0.1:18820 adicionado com arquivos aula1.mp4']);
  });
});
