/**
 * The netcat chat server of seed 000 with three real clients on 127.0.0.1: each line goes to the
 * two others, never back; partial lines wait for their newline; a line over 64 KiB cuts its sender
 * off; binary data is relayed as bytes; a client that never reads is cut off; the server goes on.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatServer, MAX_CHAT_LINE_BYTES } from '../../server/chat-server.ts';
import { killAll, runCli } from '../helpers/cli.ts';

/** A chat client that records every byte it receives and can wait for a given total. */
class Client {
  private received: Buffer[] = [];
  private waiters: { bytes: number; resolve: () => void }[] = [];
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received.push(chunk);
      const total = this.total;
      for (const waiter of this.waiters.filter((waiting) => waiting.bytes <= total)) waiter.resolve();
      this.waiters = this.waiters.filter((waiting) => waiting.bytes > total);
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  get total(): number {
    return this.received.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  get data(): Buffer {
    return Buffer.concat(this.received);
  }

  get text(): string {
    return this.data.toString('utf8');
  }

  /** Resolves once at least `bytes` bytes arrived in all. */
  async waitForTotal(bytes: number): Promise<void> {
    if (this.total >= bytes) return;
    await new Promise<void>((resolve) => this.waiters.push({ bytes, resolve }));
  }

  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }
}

let server: ChatServer;
const sockets: net.Socket[] = [];

async function join(): Promise<Client> {
  const before = server.clientCount;
  const socket = net.connect({ host: '127.0.0.1', port: server.port });
  sockets.push(socket);
  await new Promise((resolve) => socket.once('connect', resolve));
  const client = new Client(socket);
  // The server counts the client once its connection event ran: then it receives every relay.
  while (server.clientCount === before) await new Promise((resolve) => setImmediate(resolve));
  return client;
}

beforeEach(async () => {
  server = await ChatServer.start({ host: '127.0.0.1', port: 0, maxClients: 4 });
});

/** A server without the flood limit, for tests that relay many lines from one client on purpose. */
async function restartUnlimited(): Promise<void> {
  await server.close();
  server = await ChatServer.start({ host: '127.0.0.1', port: 0, maxClients: 4, linesPerSecond: 1e9 });
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server.close();
});

afterAll(killAll);

describe('chat server (seed 000, 2.2)', () => {
  it('relays each line verbatim to every other client, never back to its sender', async () => {
    const [a, b, c] = [await join(), await join(), await join()];
    await a.send('hello from a\n');
    await Promise.all([b.waitForTotal(13), c.waitForTotal(13)]);
    await b.send('héllo from b\r\n');
    const fromB = Buffer.byteLength('héllo from b\r\n');
    await Promise.all([a.waitForTotal(fromB), c.waitForTotal(13 + fromB)]);
    // A's first bytes are B's line: its own line never came back (seed 000, 8: no echo).
    expect(a.text).toBe('héllo from b\r\n');
    expect(b.text).toBe('hello from a\n');
    expect(c.text).toBe('hello from a\nhéllo from b\r\n');
  });

  it('keeps a partial line until its newline', async () => {
    const [a, b, c] = [await join(), await join(), await join()];
    // One write: a whole line and the start of the next. Only the whole line may be relayed.
    await a.send('line one\npar');
    await b.waitForTotal(9);
    await c.send('from c\n');
    await b.waitForTotal(9 + 7);
    await a.send('tial\n');
    await b.waitForTotal(9 + 7 + 8);
    expect(b.text).toBe('line one\nfrom c\npartial\n');
    await c.waitForTotal(9 + 8);
    expect(c.text).toBe('line one\npartial\n');
  });

  it('drops the unfinished line of a client that leaves', async () => {
    const [a, b] = [await join(), await join()];
    await a.send('never finished');
    a.socket.end();
    await a.closed;
    const c = await join();
    await c.send('after\n');
    await b.waitForTotal(6);
    expect(b.text).toBe('after\n');
  });

  it('relays a line of exactly 64 KiB and cuts off a longer one, before its newline', async () => {
    const [a, b, c] = [await join(), await join(), await join()];
    const longest = `${'x'.repeat(MAX_CHAT_LINE_BYTES)}\n`;
    await a.send(longest);
    await b.waitForTotal(longest.length);
    await a.send('y'.repeat(MAX_CHAT_LINE_BYTES + 1));
    await a.closed;
    expect(a.text).toBe('Line longer than 64 KiB; disconnected.\n');
    await c.send('still here\n');
    await b.waitForTotal(longest.length + 11);
    expect(b.text).toBe(`${longest}still here\n`);
    expect(server.clientCount).toBe(2);
  });

  it('relays binary data byte for byte and goes on', async () => {
    // Random bytes hold about a hundred newlines: that many lines in one go.
    await restartUnlimited();
    const [a, b, c] = [await join(), await join(), await join()];
    const garbage = Buffer.concat([
      randomBytes(20_000),
      Buffer.from([0, 0xff, 0x0a]),
      randomBytes(5000),
      Buffer.from('\n'),
    ]);
    await a.send(garbage);
    await Promise.all([b.waitForTotal(garbage.length), c.waitForTotal(garbage.length)]);
    expect(b.data.equals(garbage)).toBe(true);
    expect(c.data.equals(garbage)).toBe(true);
    await b.send('ok\n');
    await a.waitForTotal(3);
    expect(a.text).toBe('ok\n');
  });

  it('cuts off a client that does not read, so memory stays bounded', async () => {
    await restartUnlimited();
    const [a, b] = [await join(), await join()];
    b.socket.pause();
    const line = `${'z'.repeat(60_000)}\n`;
    let sent = 0;
    // Kernel buffers absorb a few MiB before the server's own queue grows; 256 MiB would mean no bound.
    while (server.clientCount === 2 && sent < 256 * 1024 * 1024) {
      await a.send(line);
      sent += line.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(server.clientCount).toBe(1);
    // Reading again, B finds its connection closed by the server.
    b.socket.resume();
    await b.closed;
  });

  it('refuses clients past the limit with one line', async () => {
    await Promise.all([join(), join(), join(), join()]);
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    sockets.push(socket);
    const extra = new Client(socket);
    await extra.closed;
    expect(extra.text).toBe('Chat server full (4 clients); try again later.\n');
  });
});

describe('npm run server -- chat', () => {
  it('listens where told and relays between netcat-like clients', async () => {
    const chat = runCli('server', ['chat', '--host', '127.0.0.1', '--port', '0', '--verbose']);
    const line = await chat.waitFor(/^chat server listening on 127\.0\.0\.1:\d+$/, 'stderr');
    const port = Number(line.split(':').at(-1));
    const connect = async () => {
      const socket = net.connect({ host: '127.0.0.1', port });
      sockets.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
      return new Client(socket);
    };
    const a = await connect();
    const b = await connect();
    // --verbose logs each join: once both are in, B's line reaches A.
    await chat.waitFor('joined (2 clients)', 'stderr');
    await b.send('hi\n');
    await a.waitForTotal(3);
    expect(a.text).toBe('hi\n');
    expect(b.text).toBe('');
    chat.kill('SIGTERM');
    expect(await chat.exited).toBe(0);
    expect(chat.stdout).toEqual([]);
  });

  it('needs --port', async () => {
    const chat = runCli('server', ['chat']);
    expect(await chat.exited).toBe(1);
    expect(chat.stderr).toEqual(['napshare server: Missing --port; see npm run -s server -- chat --help.']);
  });
});
