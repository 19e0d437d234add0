/**
 * The peer's session with the index server (seed 003, 5b-5d): one TCP connection, requests
 * answered in order. Replies are matched to requests first in, first out.
 */
import type net from 'node:net';
import { describeError, type ErrorCode, NapError } from '../shared/errors.ts';
import {
  decodeIndexReply,
  type IndexReply,
  type IndexRequest,
  joinRequest,
} from '../shared/index-protocol.ts';
import { encodeLine } from '../shared/json-line.ts';
import { LineSplitter } from '../shared/line-splitter.ts';
import { type Log, silentLog } from '../shared/log.ts';
import { connectTcp } from './connect.ts';

/**
 * Longest reply line accepted: a SEARCH reply lists at most every peer (the server bounds them);
 * 16 MiB is far beyond that and still bounds a misbehaving server.
 */
const MAX_REPLY_LINE_BYTES = 16 * 1024 * 1024;
/** A request the server never answers fails after this long instead of hanging the menu. */
export const REQUEST_TIMEOUT_MS = 30_000;

interface Pending {
  resolve: (reply: IndexReply) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class IndexClient {
  private readonly pending: Pending[] = [];
  private readonly splitter = new LineSplitter(MAX_REPLY_LINE_BYTES);
  private closedError: NapError | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly where: string,
    private readonly log: Log,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) =>
      this.fail(
        new NapError('CONNECTION_CLOSED', `Lost the index server at ${where}: ${describeError(error)}.`),
      ),
    );
    socket.on('close', () =>
      this.fail(new NapError('CONNECTION_CLOSED', `The index server at ${where} closed the connection.`)),
    );
  }

  static async connect(host: string, port: number, log: Log = silentLog): Promise<IndexClient> {
    const socket = await connectTcp(host, port, 'the index server');
    log(`connected to the index server at ${host}:${port}`);
    return new IndexClient(socket, `${host}:${port}`, log);
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** JOIN (seed 003, 5b): announce the file-server address and files; waits for JOIN_OK. */
  async join(ip: string, port: number, files: string[]): Promise<void> {
    await this.expect(joinRequest(ip, port, files), 'JOIN_OK');
  }

  /** SEARCH (seed 003, 5d): the addresses of the peers holding exactly `file`. */
  async search(file: string): Promise<string[]> {
    const reply = await this.expect({ type: 'SEARCH', file }, 'SEARCH_OK');
    return reply.type === 'SEARCH_OK' ? reply.peers : [];
  }

  /** UPDATE (seed 003, 5c): this peer now holds `file`; waits for UPDATE_OK. */
  async update(file: string): Promise<void> {
    await this.expect({ type: 'UPDATE', file }, 'UPDATE_OK');
  }

  /** Sends one request and resolves with its reply (ERROR replies included). */
  request(message: IndexRequest): Promise<IndexReply> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          new NapError(
            'TIMEOUT',
            `The index server at ${this.where} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s.`,
          ),
        );
      }, REQUEST_TIMEOUT_MS);
      this.pending.push({ resolve, reject, timer });
      this.log(`-> ${message.type}`);
      this.socket.write(encodeLine(message));
    });
  }

  /** Ends the session (the server then drops this peer's entries). Idempotent. */
  close(): void {
    this.fail(new NapError('CONNECTION_CLOSED', 'The session with the index server is closed.'));
  }

  private async expect(message: IndexRequest, type: IndexReply['type']): Promise<IndexReply> {
    const reply = await this.request(message);
    if (reply.type === 'ERROR') {
      throw new NapError(
        reply.code as ErrorCode,
        `The index server refused ${message.type}: ${reply.message}`,
      );
    }
    if (reply.type !== type)
      throw new NapError('PROTOCOL', `The index server answered ${reply.type} to ${message.type}.`);
    return reply;
  }

  private onData(chunk: Buffer): void {
    let lines: string[];
    try {
      lines = this.splitter.push(chunk);
    } catch (error) {
      this.fail(new NapError('PROTOCOL', `The index server sent an oversized line: ${describeError(error)}`));
      return;
    }
    for (const line of lines) {
      const waiting = this.pending.shift();
      if (waiting === undefined) {
        this.log(`ignored an unexpected line from the index server: ${line.slice(0, 200)}`);
        continue;
      }
      clearTimeout(waiting.timer);
      try {
        const reply = decodeIndexReply(line);
        this.log(`<- ${reply.type}`);
        waiting.resolve(reply);
      } catch (error) {
        waiting.reject(error as Error);
      }
    }
  }

  private fail(error: NapError): void {
    if (this.closedError === undefined) this.closedError = error;
    for (const waiting of this.pending.splice(0)) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.socket.destroy();
  }
}
