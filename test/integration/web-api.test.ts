/**
 * The web peer's HTTP API over real sockets on 127.0.0.1, without a browser: the token on every
 * request, no CORS, nothing changed by a GET or a non-JSON body, schema-checked requests, only the
 * page's own files served, and a whole JOIN / SEARCH / download through the API with its events
 * pushed; then the real `npm run peer -- web` command.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DownloadView } from '../../peer/web/download-board.ts';
import { MAX_EVENT_CLIENTS } from '../../peer/web/event-stream.ts';
import type { WebState } from '../../peer/web/web-peer.ts';
import { WebPeer } from '../../peer/web/web-peer.ts';
import { WebServer } from '../../peer/web/web-server.ts';
import { type CliProcess, killAll, runCli, startServer } from '../helpers/cli.ts';
import { EventClient } from '../helpers/event-client.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { line, ScriptedServer } from '../helpers/scripted-server.ts';
import { waitUntil } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
const closers: (() => Promise<void> | void)[] = [];
let indexPort = 0;

beforeAll(async () => {
  indexPort = (await startServer()).port;
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

async function startWeb(serverPort = indexPort) {
  const peer = new WebPeer({ server: { host: '127.0.0.1', port: serverPort } });
  const web = await WebServer.start({ host: '127.0.0.1', port: 0, peer });
  closers.push(async () => {
    await web.close();
    await peer.close();
  });
  const base = `http://127.0.0.1:${web.port}`;
  const auth = { authorization: `Bearer ${web.token}` };
  const post = (route: string, body: unknown) =>
    fetch(`${base}${route}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  return { peer, web, base, auth, post };
}

/** A raw request (node:http), for headers fetch will not send as they are (Origin, OPTIONS). */
function raw(
  url: string,
  options: http.RequestOptions,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, options, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
      );
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Every API route, with a body a valid request could have. */
const ROUTES: [string, string, unknown][] = [
  ['GET', '/api/state', undefined],
  ['GET', '/api/events', undefined],
  ['POST', '/api/join', { ip: '127.0.0.1', port: 0, folder: '/tmp' }],
  ['POST', '/api/search', { file: 'a.bin' }],
  ['POST', '/api/downloads', { file: 'a.bin', from: 'all' }],
  ['POST', '/api/downloads/1/cancel', undefined],
  ['POST', '/api/downloads/1/resume', undefined],
  ['POST', '/api/chat/alias', { alias: 'ana' }],
  ['POST', '/api/chat/messages', { text: 'hi' }],
  ['GET', '/api/chat/peers', undefined],
  ['GET', '/api/chat/query?file=a.bin', undefined],
];

describe('web API security', () => {
  it('refuses every API request without the token, or with a wrong one, with 401', async () => {
    const { base, web, peer } = await startWeb();
    for (const [method, route, body] of ROUTES) {
      const wrong: Record<string, string>[] = [
        {},
        { authorization: `Bearer ${web.token}x` },
        { authorization: web.token },
      ];
      for (const headers of wrong) {
        const response = await fetch(`${base}${route}${route.includes('?') ? '&' : '?'}token=wrong`, {
          method,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        expect(response.status, `${method} ${route}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        expect(await response.json()).toMatchObject({ code: 'UNAUTHORIZED' });
      }
    }
    // Nothing refused changed anything.
    expect(peer.snapshot().joined).toBeNull();
    // The token as a header, or in the query, opens the same door.
    expect(
      (await fetch(`${base}/api/state`, { headers: { authorization: `Bearer ${web.token}` } })).status,
    ).toBe(200);
    expect((await fetch(`${base}/api/state?token=${web.token}`)).status).toBe(200);
  });

  it('sends no CORS header, answers no preflight, and changes nothing on a GET or a non-JSON body', async () => {
    const { base, web, auth, peer } = await startWeb();
    const folder = await makeTempDir();
    const preflight = await raw(`${base}/api/join?token=${web.token}`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(404);
    const read = await raw(`${base}/api/state?token=${web.token}`, {
      headers: { origin: 'http://evil.example' },
    });
    expect(read.status).toBe(200);
    for (const response of [preflight, read])
      expect(Object.keys(response.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    // A cross-site form can send these content types without a preflight: refused, unread.
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const response = await fetch(`${base}/api/join`, {
        method: 'POST',
        headers: { ...auth, 'content-type': type },
        body: JSON.stringify({ ip: '127.0.0.1', port: 0, folder }),
      });
      expect(response.status, type).toBe(415);
    }
    // The actions are not GETs: a link or an image cannot JOIN.
    const get = await fetch(`${base}/api/join?ip=127.0.0.1&port=0&folder=${encodeURIComponent(folder)}`, {
      headers: auth,
    });
    expect(get.status).toBe(404);
    expect(peer.snapshot().joined).toBeNull();
  });

  it('checks every request against its schema and the names against the file server rules', async () => {
    const { base, auth, post } = await startWeb();
    const folder = await makeTempDir();
    const cases: [string, unknown, number, string][] = [
      ['/api/join', { ip: '127.0.0.1', port: 0, folder, extra: 1 }, 400, 'BAD_REQUEST'],
      ['/api/join', { ip: '127.0.0.1', port: 70000, folder }, 400, 'BAD_REQUEST'],
      ['/api/join', { ip: '127.0.0.1', port: '1', folder }, 400, 'BAD_REQUEST'],
      ['/api/join', { ip: '127.0.0.256', port: 0, folder }, 400, 'BAD_ARGUMENT'],
      ['/api/join', { ip: '127.0.0.1', port: 0, folder: path.join(folder, 'nope') }, 400, 'NOT_A_FOLDER'],
      ['/api/search', { file: '../../etc/passwd' }, 400, 'UNSAFE_NAME'],
      ['/api/search', { file: 'a\u202Eb.txt' }, 400, 'UNSAFE_NAME'],
      ['/api/search', { file: '' }, 400, 'BAD_REQUEST'],
      ['/api/downloads', { file: 'a.bin', from: 'evil' }, 400, 'BAD_REQUEST'],
      ['/api/downloads', { file: 'a.bin', from: 'all' }, 409, 'NOT_JOINED'],
      ['/api/chat/alias', { alias: 'ana' }, 409, 'NOT_JOINED'],
      ['/api/chat/messages', { text: 'x'.repeat(5000) }, 400, 'BAD_REQUEST'],
    ];
    for (const [route, body, status, code] of cases) {
      const response = await post(route, body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(await response.json(), JSON.stringify(body)).toMatchObject({ code });
    }
    expect((await fetch(`${base}/api/downloads/abc/cancel`, { method: 'POST', headers: auth })).status).toBe(
      400,
    );
    expect((await fetch(`${base}/api/downloads/7/cancel`, { method: 'POST', headers: auth })).status).toBe(
      404,
    );
    const huge = await post('/api/search', { file: 'a'.repeat(20_000) });
    expect(huge.status).toBe(413);
  });

  it('serves the page with its security headers, and no file but the page\u2019s own', async () => {
    const { base } = await startWeb();
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>napshare peer</title>');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect((await fetch(`${base}/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    for (const probe of [
      '/web-server.ts',
      '/../web-server.ts',
      '/%2e%2e/web-server.ts',
      '/..%2fmain.ts',
      '/.git/config',
    ])
      expect((await raw(`${base}${probe}`, {})).status, probe).toBe(404);
  });
});

describe('web API bounds', () => {
  it('drops a page that stops reading its event stream; the others go on receiving', async () => {
    const { base, web, peer } = await startWeb();
    const reader = await EventClient.open(`${base}/api/events?token=${web.token}`);
    closers.push(() => reader.close());
    // A client that sends its request and then never reads a byte.
    const stalled = net.connect(web.port, '127.0.0.1');
    closers.push(() => void stalled.destroy());
    stalled.pause();
    stalled.write(`GET /api/events?token=${web.token} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await waitUntil(() => web.eventClients === 2, 'both streams open');
    const closed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('timed out waiting for the stalled stream to close')),
        30_000,
      );
      stalled.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    // 64 KiB notices until the unread bytes pass the bound (the kernel's buffers take a few MB).
    for (let i = 0; web.eventClients === 2; i++) {
      if (i >= 2000) throw new Error('the stalled stream was never dropped');
      peer.emit('notice', { at: i, text: 'x'.repeat(64 * 1024) });
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Dropped: once it reads what it was sent, it finds its connection closed.
    stalled.resume();
    await closed;
    peer.emit('notice', { at: -1, text: 'still here' });
    await reader.waitFor(
      (event) => (event.data as { text?: string }).text === 'still here',
      'the reader\u2019s notice',
    );
    expect(web.eventClients).toBe(1);
  });

  it(`refuses an event stream past ${MAX_EVENT_CLIENTS} open pages with 503`, async () => {
    const { base, web } = await startWeb();
    const open: EventClient[] = [];
    closers.push(() => {
      for (const client of open) client.close();
    });
    for (let i = 0; i < MAX_EVENT_CLIENTS; i++)
      open.push(await EventClient.open(`${base}/api/events?token=${web.token}`));
    await waitUntil(() => web.eventClients === MAX_EVENT_CLIENTS, `${MAX_EVENT_CLIENTS} streams open`);
    const refused = await fetch(`${base}/api/events?token=${web.token}`);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'BUSY' });
    // One page closes: the next one gets in.
    open.pop()?.close();
    await waitUntil(() => web.eventClients === MAX_EVENT_CLIENTS - 1, 'a stream closed');
    const admitted = await EventClient.open(`${base}/api/events?token=${web.token}`);
    open.push(admitted);
    expect(admitted.response.status).toBe(200);
  });
});

describe('web API at work', () => {
  it('JOIN, SEARCH and a download through the API, the progress and the end pushed as events', async () => {
    const source = await makeTempDir();
    const sha = await writeRandomFile(path.join(source, 'clip.bin'), 9 * 1024 * 1024 + 3);
    const uploader = await sharing(source, '2MB');
    const { base, web, post } = await startWeb();
    const events = await EventClient.open(`${base}/api/events?token=${web.token}`);
    closers.push(() => events.close());
    expect(events.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await events.waitFor((event) => event.event === 'state', 'the first state');

    const folder = await makeTempDir();
    const joined = await post('/api/join', { ip: '127.0.0.1', port: 0, folder });
    expect(joined.status).toBe(200);
    const state = (await events.waitFor(
      (event) => event.event === 'state' && (event.data as WebState).joined !== null,
      'the state after JOIN',
    )) as { data: WebState };
    expect(state.data.chat.offered).toBe(true);
    expect(state.data.shared).toEqual({ files: [], total: 0 });

    const search = (await (await post('/api/search', { file: 'clip.bin' })).json()) as {
      search: { peers: unknown[] };
    };
    expect(search.search.peers).toEqual([{ address: uploader, verified: true, you: false }]);
    const started = await post('/api/downloads', { file: 'clip.bin', from: uploader });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: number };
    // 9 MiB at 2 MB/s: progress is pushed on the way, then the end.
    await events.waitFor(
      (event) =>
        event.event === 'downloads' &&
        (event.data as DownloadView[]).some(
          (d) => d.id === id && d.status === 'running' && d.done > 0 && d.done < d.total,
        ),
      'a download in progress',
    );
    const done = await events.waitFor(
      (event) =>
        event.event === 'downloads' &&
        (event.data as DownloadView[]).some((d) => d.id === id && d.status !== 'running'),
      'the end of the download',
    );
    const view = (done.data as DownloadView[]).find((d) => d.id === id) as DownloadView;
    expect(view).toMatchObject({
      status: 'done',
      sha256: sha,
      verified: true,
      pieceCount: 3,
      verifiedPieces: 3,
    });
    expect(await sha256File(path.join(folder, 'clip.bin'))).toBe(sha);
    const after = (await (
      await fetch(`${base}/api/state`, { headers: { authorization: `Bearer ${web.token}` } })
    ).json()) as WebState;
    expect(after.shared?.files).toEqual([{ name: 'clip.bin', size: 9 * 1024 * 1024 + 3 }]);
  });

  it('from every holder at once, cancelled and resumed through the API; LIST and QUERY of seed 002', async () => {
    const first = await makeTempDir();
    const sha = await writeRandomFile(path.join(first, 'pair.bin'), 17 * MiB);
    const second = await makeTempDir();
    // One file (a hard link): the holders' INFO `version` (size, mtime, inode) is then the same.
    await fs.link(path.join(first, 'pair.bin'), path.join(second, 'pair.bin'));
    const holders = [await sharing(first, '2MB'), await sharing(second, '2MB')];
    const { base, web, post, auth } = await startWeb();
    const events = await EventClient.open(`${base}/api/events?token=${web.token}`);
    closers.push(() => events.close());
    const folder = await makeTempDir();
    expect((await post('/api/join', { ip: '127.0.0.1', port: 0, folder })).status).toBe(200);
    const found = (await (await post('/api/search', { file: 'pair.bin' })).json()) as {
      search: { peers: { address: string }[] };
    };
    expect(found.search.peers.map((peer) => peer.address).sort()).toEqual([...holders].sort());
    const { id } = (await (await post('/api/downloads', { file: 'pair.bin', from: 'all' })).json()) as {
      id: number;
    };
    const ofId = (event: { event: string; data: unknown }) =>
      event.event === 'downloads' ? (event.data as DownloadView[]).find((d) => d.id === id) : undefined;
    await events.waitFor((event) => ofId(event)?.sources === 2, 'both holders sending');
    await events.waitFor((event) => {
      const d = ofId(event);
      return d?.status === 'running' && (d.verifiedPieces ?? 0) >= 1;
    }, 'a piece verified');
    const cancelled = await fetch(`${base}/api/downloads/${id}/cancel`, { method: 'POST', headers: auth });
    expect(cancelled.status).toBe(200);
    const stopped = ofId(
      await events.waitFor((event) => ofId(event)?.status === 'cancelled', 'the cancel'),
    ) as DownloadView;
    expect(stopped.error?.code).toBe('CANCELLED');
    // Cancelling it again, or resuming a download that does not exist, is refused.
    expect(
      (await fetch(`${base}/api/downloads/${id}/cancel`, { method: 'POST', headers: auth })).status,
    ).toBe(400);
    expect((await fetch(`${base}/api/downloads/99/resume`, { method: 'POST', headers: auth })).status).toBe(
      404,
    );
    const resumed = await fetch(`${base}/api/downloads/${id}/resume`, { method: 'POST', headers: auth });
    expect(resumed.status).toBe(202);
    const done = ofId(
      await events.waitFor((event) => ofId(event)?.status === 'done', 'the resumed download to finish'),
    ) as DownloadView;
    expect(done).toMatchObject({ attempts: 2, sha256: sha, from: 'all' });
    // The pieces verified before the cancel (the last one is 1 MiB) were not fetched again.
    expect(done.resumedFrom).toBeGreaterThanOrEqual(MiB);
    expect(await sha256File(path.join(folder, 'pair.bin'))).toBe(sha);

    expect((await post('/api/chat/alias', { alias: 'ana' })).status).toBe(200);
    const { peers } = (await (await fetch(`${base}/api/chat/peers`, { headers: auth })).json()) as {
      peers: { address: string; alias: string | null; you: boolean }[];
    };
    expect(peers.filter((peer) => peer.you).map((peer) => peer.alias)).toEqual(['ana']);
    expect(peers.filter((peer) => holders.includes(peer.address)).map((peer) => peer.alias)).toEqual([
      null,
      null,
    ]);
    const query = (await (await fetch(`${base}/api/chat/query?file=pair.bin&token=${web.token}`)).json()) as {
      holders: { address: string; alias: string | null; verified: boolean }[];
    };
    // The two holders, and this peer too since its UPDATE.
    expect(query.holders.map((holder) => holder.alias).sort()).toEqual(['ana', null, null].sort());
    expect(query.holders.every((holder) => holder.verified)).toBe(true);
  });

  it('a course-only index server: the chat is not offered, and chat requests say so', async () => {
    // Answers JOIN as the course's server does, and ERROR to everything else it does not know.
    const course = await ScriptedServer.start((message) =>
      message.type === 'JOIN'
        ? line({ type: 'JOIN_OK' })
        : line({ type: 'ERROR', code: 'BAD_REQUEST', message: 'Unknown request type.' }),
    );
    closers.push(() => course.close());
    const { post, peer } = await startWeb(course.port);
    const folder = await makeTempDir();
    expect((await post('/api/join', { ip: '127.0.0.1', port: 0, folder })).status).toBe(200);
    expect(peer.snapshot().chat.offered).toBe(false);
    const alias = await post('/api/chat/alias', { alias: 'ana' });
    expect(alias.status).toBe(400);
    expect(((await alias.json()) as { message: string }).message).toMatch(/does not offer chat/);
  });
});

describe('npm run peer -- web', () => {
  it('prints exactly one line, the address with a fresh token, binds 127.0.0.1, and stops on SIGTERM', async () => {
    const tokens: string[] = [];
    for (const args of [['--listen', '127.0.0.1:0'], []]) {
      const cli = runCli('peer', ['web', ...args, '--server', `127.0.0.1:${indexPort}`]);
      const printed = await cli.waitFor(/^web: /, 'stderr');
      const match = /^web: (http:\/\/127\.0\.0\.1:(\d+)\/)\?token=([A-Za-z0-9_-]{32})$/.exec(printed);
      expect(match, printed).not.toBeNull();
      const [, base, , token] = match as RegExpExecArray;
      tokens.push(token as string);
      expect((await fetch(`${base}api/state`)).status).toBe(401);
      const state = await fetch(`${base}api/state?token=${token}`);
      expect(((await state.json()) as WebState).server).toBe(`127.0.0.1:${indexPort}`);
      cli.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
      expect(cli.stderr).toEqual([printed]);
      expect(cli.bytes('stdout').length).toBe(0);
    }
    expect(tokens[0]).not.toBe(tokens[1]);
  });

  it('a taken port: one sentence on stderr, exit code 1', async () => {
    const first = runCli('peer', ['web', '--listen', '127.0.0.1:0', '--server', `127.0.0.1:${indexPort}`]);
    const port = /:(\d+)\//.exec(await first.waitFor(/^web: /, 'stderr'))?.[1];
    const second = runCli('peer', ['web', '--listen', `127.0.0.1:${port}`]);
    expect(await second.exited).toBe(1);
    expect(second.stderr).toEqual([
      `napshare peer: Port ${port} on 127.0.0.1 is already in use; choose another port.`,
    ]);
    first.kill('SIGTERM');
    await first.exited;
  });
});

/** A course peer (line mode, the real CLI) sharing `folder` at `rate`; resolves with its address. */
async function sharing(folder: string, rate: string): Promise<string> {
  const cli: CliProcess = runCli('peer', [
    '--server',
    `127.0.0.1:${indexPort}`,
    '--keep-sharing',
    '--max-upload-rate',
    rate,
  ]);
  cli.send(`JOIN 127.0.0.1 0 ${folder}`);
  const joined = await cli.waitFor(/^Sou peer /);
  return (/^Sou peer (\S+)/.exec(joined) as RegExpExecArray)[1] as string;
}
