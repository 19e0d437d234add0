/**
 * A well-behaved client of the index protocol for the stress suite: one JSON request at a time,
 * each answer awaited with a deadline and timed, pushed messages (CHAT, PEER_LEFT, PROBE) kept
 * apart from replies. Written from docs/protocol.md, independently of napshare's peer.
 */
import net from 'node:net';
import { LineSplitter } from '../../shared/line-splitter.ts';

/** Pushed message types: everything else the server sends is the reply to the oldest request. */
export const PUSH_TYPES = ['CHAT', 'PEER_LEFT', 'PROBE'];
/** A well-behaved request answered later than this is not served. */
export const ANSWER_TIMEOUT_MS = 15_000;

export type Json = Record<string, unknown>;

export class IndexSession {
  readonly pushes: Json[] = [];
  /** Lines that were not JSON objects with a string `type` (a server must never send one). */
  readonly garbled: string[] = [];
  readonly closed: Promise<void>;
  private readonly splitter = new LineSplitter(64 * 1024 * 1024);
  private waiting: { resolve: (reply: Json) => void; reject: (error: Error) => void } | undefined;
  private pushWaiters: (() => void)[] = [];
  private ended = false;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk)) this.onLine(line);
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.waiting?.reject(new Error('the index server closed the connection before answering'));
        this.waiting = undefined;
        for (const wake of this.pushWaiters.splice(0)) wake();
        resolve();
      }),
    );
  }

  static connect(port: number, localAddress = '127.0.0.1'): Promise<IndexSession> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => {
        socket.off('error', reject);
        resolve(new IndexSession(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends `message` and resolves with its reply and how long it took (ms), within the deadline. */
  request(message: Json, timeoutMs = ANSWER_TIMEOUT_MS): Promise<{ reply: Json; ms: number }> {
    if (this.waiting) throw new Error('one request at a time');
    if (this.ended) return Promise.reject(new Error('the connection to the index server is closed'));
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no answer to ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve({ reply, ms: performance.now() - started });
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** Resolves once a push matching `test` has arrived (seen already or later), within `timeoutMs`. */
  async push(test: (push: Json) => boolean, what: string, timeoutMs = ANSWER_TIMEOUT_MS): Promise<Json> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.pushes.find(test);
      if (found) return found;
      if (this.ended) throw new Error(`the connection closed before ${what}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.pushWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private onLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      message = undefined;
    }
    if (typeof message !== 'object' || message === null || typeof (message as Json).type !== 'string') {
      this.garbled.push(line);
      return;
    }
    const json = message as Json;
    if (PUSH_TYPES.includes(json.type as string)) {
      this.pushes.push(json);
      for (const wake of this.pushWaiters.splice(0)) wake();
      return;
    }
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting.resolve(json);
    else this.garbled.push(`unasked: ${line}`);
  }
}
