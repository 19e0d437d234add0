/** Helpers for the DHT mode's integration tests: private networks on 127.0.0.1, control clients. */
import net from 'node:net';
import { DhtDaemon, type DhtDaemonOptions } from '../../peer/dht/daemon.ts';
import { LineSplitter } from '../../shared/line-splitter.ts';
import { makeTempDir } from '../helpers/files.ts';
import { withDeadline } from '../helpers/wait.ts';

/** A control answer that takes longer than this is a failure (a get or search has its own, shorter, timeouts). */
const ANSWER_TIMEOUT_MS = 30_000;

/**
 * Starts `count` daemons on 127.0.0.1, every port 0: the first with `--bootstrap none`, each other
 * bootstrapping from the first, one after another, each ready before the next starts.
 */
export async function startNetwork(
  count: number,
  options: Partial<DhtDaemonOptions> = {},
): Promise<DhtDaemon[]> {
  const daemons: DhtDaemon[] = [];
  for (let i = 0; i < count; i++) {
    const first = daemons[0];
    const daemon = await DhtDaemon.start({
      dir: await makeTempDir('napshare-dht-'),
      host: '127.0.0.1',
      port: 0,
      dhtPort: 0,
      controlPort: null,
      bootstrap: first
        ? { kind: 'nodes', nodes: [{ host: '127.0.0.1', port: first.node.port }] }
        : { kind: 'none' },
      ...options,
    });
    daemons.push(daemon);
    await daemon.node.ready;
  }
  return daemons;
}

/** A control-socket client: sends lines, reads answers (lines up to an empty line). */
export class ControlClient {
  readonly socket: net.Socket;
  private readonly splitter = new LineSplitter(1024 * 1024);
  private current: string[] = [];
  private readonly answers: string[][] = [];
  private waiters: ((answer: string[]) => void)[] = [];
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk)) {
        if (line !== '') this.current.push(line);
        else {
          this.answers.push(this.current);
          this.current = [];
        }
      }
      while (this.answers.length > 0 && this.waiters.length > 0) {
        (this.waiters.shift() as (answer: string[]) => void)(this.answers.shift() as string[]);
      }
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(port: number): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => resolve(new ControlClient(socket)));
      socket.once('error', reject);
    });
  }

  /** The next answer, without its closing empty line. */
  next(): Promise<string[]> {
    const ready = this.answers.shift();
    if (ready) return Promise.resolve(ready);
    const answer = new Promise<string[]>((resolve, reject) => {
      this.waiters.push(resolve);
      void this.closed.then(() =>
        reject(new Error(`connection closed; partial answer: ${this.current.join(' | ')}`)),
      );
    });
    return withDeadline(
      answer,
      ANSWER_TIMEOUT_MS,
      `an answer of the control socket (so far: ${this.current.join(' | ')})`,
    );
  }

  /** Sends one command and resolves with its answer. */
  async ask(line: string): Promise<string[]> {
    this.socket.write(`${line}\n`);
    return this.next();
  }

  close(): void {
    this.socket.destroy();
  }
}
