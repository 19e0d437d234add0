/** `--metrics HOST:PORT`: Prometheus text over real HTTP, values that follow what the server does. */
import { afterEach, describe, expect, it } from 'vitest';
import { IndexMetrics } from '../../server/index-metrics.ts';
import { IndexServer } from '../../server/index-server.ts';
import { serveMetrics } from '../../server/metrics-http.ts';
import { killAll, runCli } from '../helpers/cli.ts';
import { LineClient } from '../helpers/line-client.ts';
import { waitUntil } from '../helpers/wait.ts';

const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await killAll();
});

/** A scrape: each sample's value by its full name with labels, as Prometheus's text writes it. */
async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** Bytes a client sent and received, counted from its side of the socket. */
function bytesOf(clients: LineClient[]): { sent: number; received: number } {
  let sent = 0;
  let received = 0;
  for (const { socket } of clients) {
    sent += socket.bytesWritten;
    received += socket.bytesRead;
  }
  return { sent, received };
}

describe('index metrics', () => {
  it('peers, entries, connections, requests, errors, latency and bytes follow the traffic', async () => {
    const metrics = new IndexMetrics();
    const server = await IndexServer.start({
      host: '127.0.0.1',
      port: 0,
      print: () => {},
      observer: metrics,
      limits: { maxConnections: 3 },
    });
    closers.push(() => server.close());
    metrics.watch(() => server.counts());
    const endpoint = await serveMetrics(metrics, '127.0.0.1', 0);
    closers.push(() => endpoint.close());
    const url = `http://127.0.0.1:${endpoint.address.port}/metrics`;

    let seen = await scrape(url);
    expect(seen.get('napshare_index_peers')).toBe(0);
    expect(seen.get('napshare_index_connections')).toBe(0);
    expect(seen.get('napshare_index_received_bytes_total')).toBe(0);

    const connect = async () => {
      const client = await LineClient.connect(server.address().port);
      closers.push(() => client.close());
      return client;
    };
    const a = await connect();
    const b = await connect();
    const c = await connect();
    expect(await a.request({ type: 'JOIN', ip: '127.0.0.1', port: 9001, files: ['x', 'y', 'z'] })).toEqual({
      type: 'JOIN_OK',
    });
    expect(await b.request({ type: 'JOIN', ip: '127.0.0.1', port: 9002, files: ['x', 'w'] })).toEqual({
      type: 'JOIN_OK',
    });
    expect((await b.request({ type: 'SEARCH', file: 'x' })).type).toBe('SEARCH_OK');
    expect((await b.request({ type: 'SEARCH', file: 'nothing' })).type).toBe('SEARCH_OK');
    expect((await b.request('not json\n')).code).toBe('BAD_REQUEST');
    expect((await c.request({ type: 'SEARCH', file: 'x' })).code).toBe('NOT_JOINED');
    // Past the cap of 3 connections: refused by the guard, counted as an error too.
    const refused = await connect();
    expect((await refused.json(0)).code).toBe('SERVER_BUSY');

    seen = await scrape(url);
    expect(seen.get('napshare_index_peers')).toBe(2);
    expect(seen.get('napshare_index_entries')).toBe(5);
    expect(seen.get('napshare_index_file_names')).toBe(4);
    expect(seen.get('napshare_index_connections')).toBe(3);
    expect(seen.get('napshare_index_requests_total{type="JOIN"}')).toBe(2);
    expect(seen.get('napshare_index_requests_total{type="SEARCH"}')).toBe(3);
    expect(seen.get('napshare_index_requests_total{type="INVALID"}')).toBe(1);
    expect(seen.get('napshare_index_errors_total{code="BAD_REQUEST"}')).toBe(1);
    expect(seen.get('napshare_index_errors_total{code="NOT_JOINED"}')).toBe(1);
    expect(seen.get('napshare_index_errors_total{code="SERVER_BUSY"}')).toBe(1);
    expect(seen.get('napshare_index_request_duration_seconds_count{type="SEARCH"}')).toBe(3);
    expect(seen.get('napshare_index_request_duration_seconds_bucket{le="1",type="SEARCH"}')).toBe(3);
    expect(seen.get('napshare_index_request_duration_seconds_sum{type="SEARCH"}')).toBeGreaterThan(0);
    // Every request was answered, so the server has read all the clients sent and sent all they read.
    const traffic = bytesOf([a, b, c]);
    expect(seen.get('napshare_index_received_bytes_total')).toBe(traffic.sent);
    expect(seen.get('napshare_index_sent_bytes_total')).toBe(traffic.received);

    // A peer leaves: the index shrinks, its bytes stay counted.
    a.close();
    await waitUntil(
      () => server.connectionCount === 2 && server.registry.lastCounts().peers === 1,
      'the server saw A close',
    );
    seen = await scrape(url);
    expect(seen.get('napshare_index_peers')).toBe(1);
    expect(seen.get('napshare_index_entries')).toBe(2);
    expect(seen.get('napshare_index_connections')).toBe(2);
    expect(seen.get('napshare_index_received_bytes_total')).toBe(traffic.sent);
    expect(seen.get('napshare_index_sent_bytes_total')).toBe(traffic.received);

    expect((await fetch(`http://127.0.0.1:${endpoint.address.port}/`)).status).toBe(404);
    expect((await fetch(url, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('npm run server -- --metrics HOST:PORT serves them; a bad address is one sentence', async () => {
    const server = runCli('server', ['--port', '0', '--metrics', '127.0.0.1:0']);
    const line = await server.waitFor(/^metrics at http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'stderr');
    const port = Number((await server.waitFor(/^listening on /, 'stderr')).split(':').at(-1));
    const client = await LineClient.connect(port);
    closers.push(() => client.close());
    expect(await client.request({ type: 'JOIN', ip: '127.0.0.1', port: 9001, files: ['x'] })).toEqual({
      type: 'JOIN_OK',
    });
    const seen = await scrape(line.slice('metrics at '.length));
    expect(seen.get('napshare_index_peers')).toBe(1);
    expect(seen.get('napshare_index_requests_total{type="JOIN"}')).toBe(1);
    server.kill();
    expect(await server.exited).toBe(0);

    const bad = runCli('server', ['--port', '0', '--metrics', '127.0.0.1']);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr).toEqual([
      'napshare server: Invalid address "127.0.0.1": expected IP:PORT such as 127.0.0.1:1099.',
    ]);
  });
});
