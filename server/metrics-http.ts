/**
 * The HTTP endpoint of `--metrics HOST:PORT`: `GET /metrics` answers the index's metrics in
 * Prometheus's text format; any other path is 404, any other method 405. It is read-only and
 * bounded like every napshare server: few connections, short deadlines, no request body read.
 */
import http from 'node:http';
import { listen } from '../io/listen.ts';
import type { IndexMetrics } from './index-metrics.ts';

/** Scrapers at once: Prometheus and an operator's curl or two; past it a newcomer is refused. */
export const METRICS_MAX_CONNECTIONS = 16;
/** A scraper has this long to send its request's headers (and the whole request): slowloris. */
export const METRICS_REQUEST_TIMEOUT_MS = 5_000;
/** An idle kept-alive scraper connection is closed after this long. */
export const METRICS_KEEP_ALIVE_MS = 5_000;

export interface MetricsEndpoint {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

/** Serves `metrics` on host:port (port 0: any free port). Rejects with ADDRESS_IN_USE when taken. */
export async function serveMetrics(
  metrics: IndexMetrics,
  host: string,
  port: number,
): Promise<MetricsEndpoint> {
  const server = http.createServer(
    {
      requestTimeout: METRICS_REQUEST_TIMEOUT_MS,
      headersTimeout: METRICS_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: METRICS_KEEP_ALIVE_MS,
      maxHeaderSize: 8 * 1024,
    },
    (request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (path !== '/metrics') return answer(response, 404, 'Not found: the metrics are at /metrics.\n');
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return answer(response, 405, 'Only GET reads the metrics.\n');
      metrics.text().then(
        (text) => answer(response, 200, text, metrics.contentType),
        () => answer(response, 500, 'The metrics could not be collected.\n'),
      );
    },
  );
  server.maxConnections = METRICS_MAX_CONNECTIONS;
  await listen(server, host, port);
  const bound = server.address() as { address: string; port: number };
  return {
    address: { host: bound.address, port: bound.port },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answer(
  response: http.ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
) {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
