/**
 * Hostile clients for napshare's TCP servers, reusable by any test or stress run: idle sockets,
 * slowloris (a line never finished), partial-line hoarders, downloaders that never read, and
 * connection floods. Each socket can come from its own loopback address (`localAddress`), so a
 * test can hold an attacker to 127.0.0.66 while well-behaved peers use 127.0.0.1. Every socket
 * records what the server sent it and when it closed.
 */
import net from 'node:net';

/** The attacker's address in tests: well-behaved peers use 127.0.0.1. */
export const ATTACKER_IP = '127.0.0.66';

/** The `index`-th of many distinct loopback addresses (127.1.0.1, 127.1.0.2, ...), for floods. */
export function loopbackAddress(index: number): string {
  return `127.1.${Math.floor(index / 254)}.${(index % 254) + 1}`;
}

/** One hostile connection: what it received, and when it closed. */
export class AttackSocket {
  private readonly chunks: Buffer[] = [];
  private closedAtMs: number | undefined;
  readonly openedAtMs = performance.now();
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedAtMs = performance.now();
        resolve();
      }),
    );
  }

  /** Everything the server sent, as text. */
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  get bytesReceived(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  get isClosed(): boolean {
    return this.closedAtMs !== undefined;
  }

  /** Milliseconds from connecting to the server closing the connection (undefined if open). */
  get lifetimeMs(): number | undefined {
    return this.closedAtMs === undefined ? undefined : this.closedAtMs - this.openedAtMs;
  }

  /** Waits until the server closes it, at most `timeoutMs`; the error says what was awaited. */
  async waitClosed(timeoutMs: number, what = 'the server to close an attack socket'): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.closed, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export interface AttackTarget {
  port: number;
  host?: string;
  /** Source address of the attack's sockets (default ATTACKER_IP); a function gives one per socket. */
  from?: string | ((index: number) => string);
}

/** Connects one socket from `localAddress`; resolves once connected. */
export function connectFrom(port: number, localAddress: string, host = '127.0.0.1'): Promise<AttackSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, localAddress });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new AttackSocket(socket));
    });
    socket.once('error', reject);
  });
}

function source(target: AttackTarget, index: number): string {
  const from = target.from ?? ATTACKER_IP;
  return typeof from === 'function' ? from(index) : from;
}

/**
 * `count` connections that connect and then say nothing (idle flood); `onConnect`, when given,
 * makes each one something else as soon as it is connected (a slowloris, a client that never reads).
 */
export async function idleFlood(
  target: AttackTarget,
  count: number,
  onConnect?: (socket: AttackSocket, index: number) => unknown,
): Promise<AttackSocket[]> {
  const sockets: AttackSocket[] = [];
  // In batches: thousands of connects at once would overflow the listen backlog.
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, async (_, k) => {
      const socket = await connectFrom(target.port, source(target, i + k), target.host);
      // At once, not after the batch: on a busy machine a batch can outlast a server's idle timeout.
      await onConnect?.(socket, i + k);
      return socket;
    });
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

/**
 * Slowloris: `count` connections that each start a line and add `bytesPerTick` bytes of it every
 * `tickMs`, never sending its newline. stop() ends the trickle (the sockets stay open).
 */
export async function slowloris(
  target: AttackTarget,
  count: number,
  options: { tickMs: number; bytesPerTick?: number; prefix?: string },
): Promise<{ sockets: AttackSocket[]; stop: () => void }> {
  const sockets = await idleFlood(target, count, (socket) =>
    socket.write(options.prefix ?? '{"type":"JOIN","ip":"'),
  );
  const filler = 'x'.repeat(options.bytesPerTick ?? 1);
  const timer = setInterval(() => {
    for (const socket of sockets) if (!socket.isClosed) socket.write(filler);
  }, options.tickMs);
  return { sockets, stop: () => clearInterval(timer) };
}

/**
 * `count` connections that each send `bytes` of one line without its newline, at once, and then
 * wait: memory the server would hold for unfinished lines.
 */
export async function partialLines(
  target: AttackTarget,
  count: number,
  bytes: number,
): Promise<AttackSocket[]> {
  const sockets = await idleFlood(target, count);
  const line = Buffer.alloc(bytes, 'y');
  for (const socket of sockets) socket.write(line);
  return sockets;
}

/**
 * `count` connections that each send `request` (a whole line) and then never read: the socket is
 * paused, so the kernel buffers fill and the server's writes stop completing.
 */
export async function nonReaders(
  target: AttackTarget,
  count: number,
  request: string,
): Promise<AttackSocket[]> {
  const sockets = await idleFlood(target, count);
  for (const attack of sockets) {
    attack.socket.pause();
    attack.write(request);
  }
  return sockets;
}

/**
 * Keeps `count` idle connections open, opening a new one whenever the server closes one (the
 * attacker renews its sockets), until stop(). `opened` counts every socket it opened.
 */
export function renewingIdleFlood(
  target: AttackTarget,
  count: number,
): { sockets: Set<AttackSocket>; opened: () => number; refusals: string[]; stop: () => Promise<void> } {
  const sockets = new Set<AttackSocket>();
  const refusals: string[] = [];
  let opened = 0;
  let stopped = false;
  const open = async (index: number): Promise<void> => {
    if (stopped) return;
    const attack = await connectFrom(target.port, source(target, index), target.host).catch(() => undefined);
    if (!attack) {
      if (!stopped) setTimeout(() => void open(index), 50);
      return;
    }
    opened++;
    sockets.add(attack);
    void attack.closed.then(() => {
      sockets.delete(attack);
      if (attack.text !== '') refusals.push(attack.text);
      void open(index);
    });
  };
  for (let i = 0; i < count; i++) void open(i);
  return {
    sockets,
    opened: () => opened,
    refusals,
    stop: async () => {
      stopped = true;
      const all = [...sockets];
      for (const attack of all) attack.destroy();
      await Promise.all(all.map((attack) => attack.closed));
    },
  };
}

/** Closes every socket of an attack and waits until they are closed. */
export async function endAttack(sockets: Iterable<AttackSocket>): Promise<void> {
  const all = [...sockets];
  for (const attack of all) attack.destroy();
  await Promise.all(all.map((attack) => attack.closed));
}
