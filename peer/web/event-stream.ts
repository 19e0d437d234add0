/**
 * Server-sent events (text/event-stream) to the open pages: each page holds one GET /api/events
 * and receives every change as it happens, so no page ever polls. Bounded: a few pages at once,
 * and a page that stops reading is dropped before what waits for it grows.
 */
import type { ServerResponse } from 'node:http';

/** Pages connected at once: one person's tabs; more are refused (503). */
export const MAX_EVENT_CLIENTS = 16;
/** Unsent bytes a page may let pile up (a frozen tab, a stalled socket) before it is dropped. */
export const MAX_EVENT_BACKLOG_BYTES = 1024 * 1024;
/**
 * A comment line this often keeps the stream open through idle timeouts (the HTTP server's
 * CONNECTION_TIMEOUT_MS) and shows a vanished page, whose socket then errors.
 */
export const KEEPALIVE_MS = 15_000;

/** One event as written on the stream: `event: NAME`, `data: JSON`, an empty line. */
export function encodeEvent(event: string, data: unknown): string {
  // JSON.stringify escapes every newline inside strings, so the data is always one line.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly keepalive: NodeJS.Timeout;

  constructor() {
    this.keepalive = setInterval(() => this.write(': keepalive\n\n'), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Whether one more page may connect. */
  get full(): boolean {
    return this.clients.size >= MAX_EVENT_CLIENTS;
  }

  /** Starts the stream on `response` with `first` (the state as it is now). */
  open(response: ServerResponse, headers: Record<string, string>, first: string): void {
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    this.clients.add(response);
    const drop = () => this.clients.delete(response);
    response.on('close', drop);
    response.on('error', drop);
    this.send(response, first);
  }

  broadcast(event: string, data: unknown): void {
    if (this.clients.size > 0) this.write(encodeEvent(event, data));
  }

  /** Ends every stream (the peer is stopping). */
  close(): void {
    clearInterval(this.keepalive);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private write(text: string): void {
    for (const client of this.clients) this.send(client, text);
  }

  private send(client: ServerResponse, text: string): void {
    if (client.writableLength > MAX_EVENT_BACKLOG_BYTES) {
      // Not reading: its page reconnects (EventSource does) and gets the whole state again.
      this.clients.delete(client);
      client.destroy();
      return;
    }
    client.write(text);
  }
}
