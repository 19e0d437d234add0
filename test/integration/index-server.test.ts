/** The index server over real sockets: bad input never crashes it nor disturbs other peers. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IndexServer } from '../../server/index-server.ts';
import { LineClient } from '../helpers/line-client.ts';
import { waitUntil } from '../helpers/wait.ts';

let server: IndexServer;
let printed: string[];
const clients: LineClient[] = [];

async function client(): Promise<LineClient> {
  const c = await LineClient.connect(server.address().port);
  clients.push(c);
  return c;
}

function join(port: number, files: string[] = []) {
  return { type: 'JOIN', ip: '127.0.0.1', port, files };
}

beforeEach(async () => {
  printed = [];
  server = await IndexServer.start({ host: '127.0.0.1', port: 0, print: (line) => printed.push(line) });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
});

describe('index server', () => {
  it('answers JOIN, SEARCH and UPDATE and prints exactly the two contract lines', async () => {
    const a = await client();
    const b = await client();
    expect(await a.request(join(8776, ['aula1.mp4', 'aula2.mp4']))).toEqual({ type: 'JOIN_OK' });
    expect(await b.request(join(8777))).toEqual({ type: 'JOIN_OK' });
    expect(await b.request({ type: 'SEARCH', file: 'aula1.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:8776'],
    });
    expect(await b.request({ type: 'UPDATE', file: 'aula1.mp4' })).toEqual({ type: 'UPDATE_OK' });
    expect(await a.request({ type: 'SEARCH', file: 'aula1.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:8776', '127.0.0.1:8777'],
    });
    expect(printed).toEqual([
      'Peer 127.0.0.1:8776 adicionado com arquivos aula1.mp4 aula2.mp4',
      'Peer 127.0.0.1:8777 adicionado com arquivos',
      'Peer 127.0.0.1:8777 solicitou arquivo aula1.mp4',
      'Peer 127.0.0.1:8776 solicitou arquivo aula1.mp4',
    ]);
  });

  it('answers pipelined requests in order', async () => {
    const a = await client();
    a.send(
      `${JSON.stringify(join(9000, ['x']))}\n${JSON.stringify({ type: 'SEARCH', file: 'x' })}\n${JSON.stringify({ type: 'UPDATE', file: 'y' })}\n${JSON.stringify({ type: 'SEARCH', file: 'y' })}\n`,
    );
    expect(await Promise.all([0, 1, 2, 3].map((i) => a.json(i)))).toEqual([
      { type: 'JOIN_OK' },
      { type: 'SEARCH_OK', peers: ['127.0.0.1:9000'] },
      { type: 'UPDATE_OK' },
      { type: 'SEARCH_OK', peers: ['127.0.0.1:9000'] },
    ]);
  });

  it.each([
    ['a malformed line', 'this is not json\n', 'BAD_REQUEST'],
    ['an unknown type', '{"type":"DELETE","file":"a"}\n', 'BAD_REQUEST'],
    ['a wrong field type', '{"type":"JOIN","ip":"127.0.0.1","port":"80","files":[]}\n', 'BAD_REQUEST'],
    [
      'a file name with a path separator',
      '{"type":"JOIN","ip":"127.0.0.1","port":80,"files":["..\\\\win.ini"]}\n',
      'UNSAFE_NAME',
    ],
    ['UPDATE before JOIN', '{"type":"UPDATE","file":"a.mp4"}\n', 'NOT_JOINED'],
    ['SEARCH before JOIN', '{"type":"SEARCH","file":"a.mp4"}\n', 'NOT_JOINED'],
    ['invalid UTF-8', Buffer.from([0xff, 0xfe, 0x7b, 0x0a]), 'BAD_REQUEST'],
  ])('%s gets an ERROR reply and the connection stays usable', async (_what, bad, code) => {
    const other = await client();
    await other.request(join(7000, ['shared.mp4']));
    const a = await client();
    a.send(bad);
    expect(await a.json(0)).toMatchObject({ type: 'ERROR', code, message: expect.any(String) });
    expect(await a.request(join(7001))).toEqual({ type: 'JOIN_OK' });
    expect(await other.request({ type: 'SEARCH', file: 'shared.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:7000'],
    });
    // Refused requests print nothing.
    expect(printed.filter((line) => !line.startsWith('Peer 127.0.0.1:700'))).toEqual([]);
  });

  it('a line over 1 MiB gets an ERROR and that connection is closed; other peers go on', async () => {
    const other = await client();
    await other.request(join(7100, ['keep.mp4']));
    const a = await client();
    expect(await a.request(join(7101, ['gone.mp4']))).toEqual({ type: 'JOIN_OK' });
    const huge = Buffer.alloc(1024 * 1024 + 100, 'a');
    a.send(huge);
    expect(await a.json(1)).toMatchObject({ type: 'ERROR', code: 'LINE_TOO_LONG' });
    await a.closed;
    await waitUntil(
      async () => (await server.registry.counts()).peers === 1,
      'the server drops the cut-off peer',
    );
    // The cut-off peer's entries left with its connection; the other one is undisturbed.
    expect(await other.request({ type: 'SEARCH', file: 'gone.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: [],
    });
    expect(await other.request({ type: 'SEARCH', file: 'keep.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:7100'],
    });
  });

  it('20 peers joining at once are all indexed', async () => {
    const peers = await Promise.all(Array.from({ length: 20 }, () => client()));
    const replies = await Promise.all(
      peers.map((peer, i) => peer.request(join(8000 + i, ['common.mp4', `own-${i}.mp4`]))),
    );
    expect(replies).toEqual(Array.from({ length: 20 }, () => ({ type: 'JOIN_OK' })));
    const found = await peers[0]?.request({ type: 'SEARCH', file: 'common.mp4' });
    expect(new Set(found?.peers as string[])).toEqual(
      new Set(Array.from({ length: 20 }, (_, i) => `127.0.0.1:${8000 + i}`)),
    );
    expect(printed.filter((line) => line.includes('adicionado'))).toHaveLength(20);
    expect((await server.registry.counts()).peers).toBe(20);
  });

  it("a peer's entries leave the index when its connection closes", async () => {
    const a = await client();
    const b = await client();
    await a.request(join(8500, ['a.mp4']));
    await b.request(join(8501, ['a.mp4']));
    a.close();
    await waitUntil(async () => (await server.registry.counts()).peers === 1, 'the server sees the close');
    expect(await b.request({ type: 'SEARCH', file: 'a.mp4' })).toEqual({
      type: 'SEARCH_OK',
      peers: ['127.0.0.1:8501'],
    });
  });

  it('close() is idempotent and drops connected clients', async () => {
    const a = await client();
    await a.request(join(8600));
    await Promise.all([server.close(), server.close()]);
    await a.closed;
  });
});
