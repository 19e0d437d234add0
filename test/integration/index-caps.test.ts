/** The index server stores the capabilities announced at JOIN and lists them in SEARCH_OK / QUERY_OK. */
import { afterEach, describe, expect, it } from 'vitest';
import { IndexClient } from '../../peer/index-client.ts';
import { FD_RESERVE } from '../../server/fd-limit.ts';
import { DEFAULT_INDEX_LIMITS, IndexServer } from '../../server/index-server.ts';
import { killAll, runCli } from '../helpers/cli.ts';
import { LineClient } from '../helpers/line-client.ts';

const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await killAll();
});

async function start(): Promise<number> {
  const server = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
  closers.push(() => server.close());
  return server.address().port;
}

async function raw(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  closers.push(() => client.close());
  return client;
}

describe('capabilities in the index', () => {
  it('SEARCH_OK carries caps for the holders that announced some, exact bytes; none: the course reply', async () => {
    const port = await start();
    const napshare = await raw(port);
    const course = await raw(port);
    napshare.send('{"type":"JOIN","ip":"127.0.0.1","port":8776,"files":["a.mp4"],"caps":["INFO","LATER"]}\n');
    expect(await napshare.line(0)).toBe('{"type":"JOIN_OK"}');
    course.send('{"type":"JOIN","ip":"127.0.0.1","port":9000,"files":["a.mp4","b.mp4"]}\n');
    expect(await course.line(0)).toBe('{"type":"JOIN_OK"}');
    course.send('{"type":"SEARCH","file":"a.mp4"}\n');
    expect(await course.line(1)).toBe(
      '{"type":"SEARCH_OK","peers":["127.0.0.1:8776","127.0.0.1:9000"],"caps":{"127.0.0.1:8776":["INFO"]}}',
    );
    course.send('{"type":"SEARCH","file":"b.mp4"}\n');
    expect(await course.line(2)).toBe('{"type":"SEARCH_OK","peers":["127.0.0.1:9000"]}');
    course.send('{"type":"QUERY","file":"a.mp4"}\n');
    expect(await course.line(3)).toBe(
      '{"type":"QUERY_OK","file":"a.mp4","peers":[{"address":"127.0.0.1:8776"},{"address":"127.0.0.1:9000"}],"caps":{"127.0.0.1:8776":["INFO"]}}',
    );
  });

  it('a JOIN with malformed caps is refused and adds nothing', async () => {
    const port = await start();
    const bad = await raw(port);
    bad.send('{"type":"JOIN","ip":"127.0.0.1","port":8776,"files":["a.mp4"],"caps":"INFO"}\n');
    expect(await bad.json(0)).toMatchObject({ type: 'ERROR', code: 'BAD_REQUEST' });
    const other = await raw(port);
    other.send('{"type":"JOIN","ip":"127.0.0.1","port":9000,"files":[]}\n{"type":"SEARCH","file":"a.mp4"}\n');
    expect(await other.line(1)).toBe('{"type":"SEARCH_OK","peers":[]}');
  });

  it("IndexClient announces its caps and reads the holders' caps", async () => {
    const port = await start();
    const holder = await IndexClient.connect('127.0.0.1', port, { heartbeat: false });
    closers.push(() => holder.close());
    await holder.join('127.0.0.1', 8776, ['a.mp4'], undefined, ['INFO']);
    const asker = await IndexClient.connect('127.0.0.1', port, { heartbeat: false });
    closers.push(() => asker.close());
    await asker.join('127.0.0.1', 9000, ['a.mp4']);
    expect(await asker.searchHolders('a.mp4')).toEqual({
      peers: ['127.0.0.1:8776', '127.0.0.1:9000'],
      caps: { '127.0.0.1:8776': ['INFO'] },
    });
    expect((await asker.queryHolders('a.mp4')).caps).toEqual({ '127.0.0.1:8776': ['INFO'] });
  });
});

describe('connections against the file-descriptor limit', () => {
  const OPEN_FILES = 200;
  const FITS = OPEN_FILES - FD_RESERVE;

  it('under a low ulimit -n the default cap fits it: the connection past it gets SERVER_BUSY', async () => {
    const server = runCli('server', ['--port', '0', '--verbose', '--max-connections-per-ip', '1000'], {
      openFiles: OPEN_FILES,
    });
    await server.waitFor(
      `at most ${FITS} connections (not ${DEFAULT_INDEX_LIMITS.maxConnections})`,
      'stderr',
    );
    const port = Number((await server.waitFor(/index server listening on /, 'stderr')).split(':').at(-1));
    const clients = await Promise.all(Array.from({ length: FITS }, () => raw(port)));
    // Each admitted: it answers a request (a refused one would have its SERVER_BUSY line instead).
    for (const client of clients) expect((await client.request({ type: 'PING' })).type).toBe('PONG');
    const past = await raw(port);
    expect((await past.json(0)).code).toBe('SERVER_BUSY');
    server.kill();
    expect(await server.exited).toBe(0);
  });

  it('--max-connections above the limit is kept, with a warning on stderr saying what to do', async () => {
    const server = runCli('server', ['--port', '0', '--max-connections', '5000'], { openFiles: OPEN_FILES });
    const warning = await server.waitFor(/^napshare server: --max-connections 5000 needs/, 'stderr');
    expect(warning).toContain(
      `raise the limit (ulimit -n ${5000 + FD_RESERVE}) or lower --max-connections to ${FITS}`,
    );
    await server.waitFor(/^listening on /, 'stderr');
    server.kill();
    expect(await server.exited).toBe(0);
  });
});
