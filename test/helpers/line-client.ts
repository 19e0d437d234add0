/** A raw TCP client for tests: writes whatever bytes it is told, reads replies line by line. */
import net from 'node:net';
import { LineSplitter } from '../../shared/line-splitter.ts';

/** A reply line that takes longer than this is a failure, reported with the lines received. */
const LINE_TIMEOUT_MS = 30_000;

export class LineClient {
  readonly lines: string[] = [];
  readonly closed: Promise<void>;
  private readonly splitter = new LineSplitter(64 * 1024 * 1024);
  private waiters: (() => void)[] = [];
  private ended = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.lines.push(...this.splitter.push(chunk));
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.ended = true;
        for (const wake of this.waiters.splice(0)) wake();
        resolve();
      }),
    );
  }

  /** `localAddress`: the address to connect from (any of 127.0.0.0/8 on loopback). */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, localAddress }, () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends an object as one JSON line, or a raw string/bytes as they are. */
  send(message: object | string | Buffer): void {
    this.socket.write(
      typeof message === 'string' || Buffer.isBuffer(message) ? message : `${JSON.stringify(message)}\n`,
    );
  }

  /**
   * The `index`-th line received (0-based), waiting for it; rejects if the connection closes first
   * or after `timeoutMs`.
   */
  async line(index: number, timeoutMs = LINE_TIMEOUT_MS): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (this.lines.length <= index) {
      if (this.ended)
        throw new Error(`connection closed after ${this.lines.length} lines: ${this.lines.join(' | ')}`);
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(
          `timed out waiting for line ${index} after ${this.lines.length} lines: ${this.lines.slice(-10).join(' | ')}`,
        );
      let wake = () => {};
      const timer = setTimeout(() => wake(), left);
      await new Promise<void>((resolve) => {
        wake = resolve;
        this.waiters.push(resolve);
      });
      clearTimeout(timer);
    }
    return this.lines[index] as string;
  }

  async json(index: number): Promise<Record<string, unknown>> {
    return JSON.parse(await this.line(index)) as Record<string, unknown>;
  }

  /** Sends `message` and resolves with the next reply, parsed. */
  async request(message: object | string): Promise<Record<string, unknown>> {
    const index = this.lines.length;
    this.send(message);
    return this.json(index);
  }

  close(): void {
    this.socket.destroy();
  }
}
