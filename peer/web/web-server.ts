/**
 * The HTTP side of `npm run peer -- web`: fastify serving the page (peer/web/public/, static
 * files, no build step), the JSON API (web-routes.ts) and the event stream (event-stream.ts).
 *
 * Security (docs/web.md, "Security"): every /api request carries the random token (header
 * `Authorization: Bearer T` or query `?token=T`) or gets 401; no CORS header is ever sent, and a
 * JSON body is required to change anything, so another site's page can neither read nor act;
 * whatever changes state is POST; a strict Content-Security-Policy keeps the page to its own
 * scripts. It binds 127.0.0.1 unless told otherwise.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { bindError } from '../../io/listen.ts';
import { formatAddress } from '../../shared/address.ts';
import { EventStream, encodeEvent } from './event-stream.ts';
import type { WebPeer } from './web-peer.ts';
import { registerRoutes, sendError } from './web-routes.ts';

/** The page's files: index.html, its scripts and its style sheet. */
export const PUBLIC_FOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
/** Request bodies are small JSON objects (a folder path, a chat line of at most 4 KiB). */
export const BODY_LIMIT_BYTES = 16 * 1024;
/** Open HTTP connections at most: one person's tabs need a handful; past it Node closes new ones at once. */
export const MAX_HTTP_CONNECTIONS = 64;
/** A connection silent this long is closed; event streams send a keepalive every 15 s. */
const CONNECTION_TIMEOUT_MS = 60_000;
/**
 * A request must arrive whole within this: a page's requests are small and arrive in
 * milliseconds, while a connection that never finishes its request (slow loris, or one that says
 * nothing) holds one of the MAX_HTTP_CONNECTIONS places, and a flood of them locks every new page
 * out until this ends. 10 s is generous for a busy machine and keeps that lock-out short.
 */
export const REQUEST_TIMEOUT_MS = 10_000;
/**
 * How often Node checks REQUEST_TIMEOUT_MS. Its default, 30 s, let an unfinished request hold its
 * place for up to the timeout plus 30 s (measured 57 s against a 30 s timeout); once a second costs
 * a walk over at most MAX_HTTP_CONNECTIONS entries.
 */
const TIMEOUT_CHECK_MS = 1000;
/**
 * A connection that has been answered and asks nothing more is closed after this. fastify's
 * default, 72 s, let a client that asked once hold a place longer than a minute; browsers open a
 * new connection when they need one.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 5000;

/** Sent with every answer: the page runs only its own files, is never framed, leaks no address. */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** A new random token: 192 bits, URL-safe. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The token a request carries, from `Authorization: Bearer T` or `?token=T`. */
export function requestToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim();
  const query = request.query as { token?: unknown } | undefined;
  return typeof query?.token === 'string' ? query.token : undefined;
}

/** Compares in constant time (hashes of equal length), so timing tells nothing of the token. */
function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

export interface WebServerOptions {
  host: string;
  port: number;
  peer: WebPeer;
  /** Default: a new random one. */
  token?: string;
}

export class WebServer {
  private constructor(
    private readonly app: FastifyInstance,
    private readonly events: EventStream,
    readonly host: string,
    readonly token: string,
  ) {}

  static async start(options: WebServerOptions): Promise<WebServer> {
    const token = options.token ?? newToken();
    const app = Fastify({
      logger: false,
      bodyLimit: BODY_LIMIT_BYTES,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      http: { connectionsCheckingInterval: TIMEOUT_CHECK_MS },
      // A request is what its schema says, or refused: no field silently dropped, no "1" taken
      // for 1 (fastify's defaults strip unknown fields and coerce types).
      ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    });
    // Only application/json bodies are parsed, any other is answered 415: a cross-site form
    // (plain text, form encodings) cannot reach a handler.
    app.removeContentTypeParser('text/plain');
    const events = new EventStream();
    const server = new WebServer(app, events, options.host, token);

    app.addHook('onRequest', async (request, reply) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
      if (!request.url.startsWith('/api/')) return;
      reply.header('cache-control', 'no-store');
      if (!sameToken(requestToken(request), token)) {
        reply.header('www-authenticate', 'Bearer');
        return sendError(
          reply,
          401,
          'UNAUTHORIZED',
          'This request has no valid token: open the address the peer printed (it ends with ?token=...).',
        );
      }
    });
    await app.register(fastifyStatic, {
      root: PUBLIC_FOLDER,
      // Only the files there at start get a route: nothing else under the folder is reachable.
      wildcard: false,
      index: 'index.html',
      serveDotFiles: false,
      cacheControl: false,
    });
    registerRoutes(app, options.peer);
    app.get('/api/events', (_request, reply) => {
      if (events.full) return sendError(reply, 503, 'BUSY', 'Too many pages are open on this peer.');
      reply.hijack();
      const headers = { ...SECURITY_HEADERS, 'x-accel-buffering': 'no' };
      events.open(reply.raw, headers, encodeEvent('state', options.peer.snapshot()));
    });
    server.forward(options.peer);
    app.server.maxConnections = MAX_HTTP_CONNECTIONS;
    try {
      await app.listen({ host: options.host, port: options.port });
    } catch (error) {
      await app.close();
      throw bindError(error as NodeJS.ErrnoException, options.host, options.port);
    }
    return server;
  }

  get port(): number {
    return (this.app.server.address() as AddressInfo).port;
  }

  /** Pages holding the event stream now. */
  get eventClients(): number {
    return this.events.size;
  }

  /** The page's address, token included: what the peer prints. */
  get url(): string {
    return `http://${formatAddress(this.host, this.port)}/?token=${this.token}`;
  }

  /** Ends the event streams and stops listening. */
  async close(): Promise<void> {
    this.events.close();
    await this.app.close();
  }

  /** Every change of the peer goes to every open page. */
  private forward(peer: WebPeer): void {
    peer.on('state', () => this.events.broadcast('state', peer.snapshot()));
    peer.on('downloads', (downloads) => this.events.broadcast('downloads', downloads));
    peer.on('speed', (speed) => this.events.broadcast('speed', speed));
    peer.on('chat', (line) => this.events.broadcast('chat', line));
    peer.on('notice', (notice) => this.events.broadcast('notice', notice));
  }
}
