/**
 * Reads a server-sent event stream (the web peer's GET /api/events) over real HTTP: every event
 * is kept, and a test waits, with a deadline, for the first one that matches.
 */
export interface ServerEvent {
  event: string;
  data: unknown;
}

export class EventClient {
  readonly events: ServerEvent[] = [];
  private readonly controller = new AbortController();
  private waiters: { test: (event: ServerEvent) => boolean; resolve: (event: ServerEvent) => void }[] = [];

  private constructor(readonly response: Response) {}

  static async open(url: string, headers: Record<string, string> = {}): Promise<EventClient> {
    const controller = new AbortController();
    const response = await fetch(url, { headers, signal: controller.signal });
    const client = new EventClient(response);
    client.controller.signal.addEventListener('abort', () => controller.abort());
    if (response.ok && response.body) void client.read(response.body);
    return client;
  }

  /** The first event (already received or to come) for which `test` holds. */
  waitFor(test: (event: ServerEvent) => boolean, what: string, timeoutMs = 30_000): Promise<ServerEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for the event: ${what}`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  close(): void {
    this.controller.abort();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        for (let end = buffered.indexOf('\n\n'); end !== -1; end = buffered.indexOf('\n\n')) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          this.take(block);
        }
      }
    } catch {
      // closed by the test, or by the peer
    }
  }

  private take(block: string): void {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (data === '') return; // a keepalive comment
    const parsed = { event, data: JSON.parse(data) as unknown };
    this.events.push(parsed);
    const keep: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (waiter.test(parsed)) waiter.resolve(parsed);
      else keep.push(waiter);
    }
    this.waiters = keep;
  }
}
