/**
 * One TCP connection to the index server: requests answered in order and matched to replies
 * first in, first out; messages the server pushes unasked (CHAT, PEER_LEFT, seed 002) are not
 * replies and go to `onPush`; a PROBE (is this peer still there?) is answered with a PING. Heartbeats (PING) keep it known alive to the server and reveal a
 * dead server. When the connection is lost — closed, broken, no reply in time — every waiting
 * request fails and `onLost` is called once; IndexClient then decides whether to reconnect.
 */
import type net from 'node:net';
import { describeError, NapError } from '../shared/errors.ts';
import {
  decodeIndexMessage,
  type IndexPush,
  type IndexReply,
  type IndexRequest,
  isIndexPush,
  isPushLine,
  type MemberPush,
} from '../shared/index-protocol.ts';
import { encodeLine } from '../shared/json-line.ts';
import { LineSplitter } from '../shared/line-splitter.ts';
import type { Log } from '../shared/log.ts';

/**
 * Longest reply line accepted: a SEARCH or LIST reply lists at most every peer (the server bounds
 * them); 16 MiB is far beyond that and still bounds a misbehaving server.
 */
const MAX_REPLY_LINE_BYTES = 16 * 1024 * 1024;
/** A request the server never answers fails after this long instead of hanging the menu. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** PING period when the server does not say its timeout: a third of napshare's default 45 s. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000;
/** Never ping faster than this, whatever timeout a server announces. */
const MIN_HEARTBEAT_INTERVAL_MS = 30;

export interface IndexConnectionOptions {
  /** `IP:port` of the server, for messages. */
  where: string;
  log: Log;
  heartbeat: boolean;
  onPush: (push: MemberPush) => void;
  onLost: (error: NapError) => void;
}

interface Pending {
  resolve: (reply: IndexReply) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class IndexConnection {
  private readonly splitter = new LineSplitter(MAX_REPLY_LINE_BYTES);
  // Requests sent and not answered yet, oldest first; bounded by what the caller awaits.
  private readonly pending: Pending[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closedError: NapError | undefined;
  // One PING at a time answers PROBEs: a server pushing PROBE after PROBE gets one answer per
  // round trip, and the requests waiting here stay bounded.
  private answeringProbe = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly options: IndexConnectionOptions,
  ) {
    const { where } = options;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) =>
      this.lose(
        new NapError('CONNECTION_CLOSED', `Lost the index server at ${where}: ${describeError(error)}.`),
      ),
    );
    socket.on('close', () =>
      this.lose(new NapError('CONNECTION_CLOSED', `The index server at ${where} closed the connection.`)),
    );
    if (options.heartbeat) this.beat();
  }

  /**
   * Sends one request and resolves with its reply (ERROR replies included). Over TCP each request
   * gets exactly one reply, in order (seed 003, 5e: no loss, no duplicates), so replies are matched
   * first in, first out; a lost connection fails the waiting requests rather than sending them
   * again (a JOIN or UPDATE sent twice could be applied twice).
   */
  request(message: IndexRequest): Promise<IndexReply> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.lose(
          new NapError(
            'TIMEOUT',
            `The index server at ${this.options.where} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s.`,
          ),
        );
      }, REQUEST_TIMEOUT_MS);
      this.pending.push({ resolve, reject, timer });
      if (message.type !== 'PING') this.options.log(`-> ${message.type}`);
      this.socket.write(encodeLine(message));
    });
  }

  /** Closes without calling onLost; waiting requests fail with `error`. Idempotent. */
  close(error: NapError): void {
    if (this.closedError) return;
    this.closedError = error;
    clearTimeout(this.heartbeatTimer);
    for (const waiting of this.pending.splice(0)) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.socket.destroy();
  }

  private lose(error: NapError): void {
    if (this.closedError) return;
    this.close(error);
    this.options.onLost(error);
  }

  // Heartbeat: the first PING opts in; the PONG says how long the server waits, so the period
  // follows the server's setting (a third of it) without configuring each peer.
  private beat(): void {
    this.request({ type: 'PING' }).then(
      (reply) => {
        // PING is refused only when the server refuses the connection itself (its caps, a
        // deadline): it closes next, and the requests waiting fail with its reason.
        if (reply.type === 'ERROR') {
          this.lose(
            new NapError(
              'CONNECTION_CLOSED',
              `The index server at ${this.options.where} refused the connection: ${reply.message}`,
            ),
          );
          return;
        }
        if (reply.type !== 'PONG' || this.closedError) return; // a server without heartbeats
        const every = reply.timeoutMs === undefined ? DEFAULT_HEARTBEAT_INTERVAL_MS : reply.timeoutMs / 3;
        this.heartbeatTimer = setTimeout(() => this.beat(), Math.max(MIN_HEARTBEAT_INTERVAL_MS, every));
        // The peer's own sockets and stdin keep the process alive; a heartbeat must not.
        this.heartbeatTimer.unref();
      },
      () => {}, // the loss is reported through onLost
    );
  }

  // PROBE: another connection JOINed with this peer's address or alias; any line proves this
  // peer is still here and keeps its entry (docs/protocol.md, "No takeovers").
  private answerProbe(): void {
    if (this.answeringProbe) return;
    this.answeringProbe = true;
    this.request({ type: 'PING' })
      .catch(() => {}) // the loss is reported through onLost
      .finally(() => {
        this.answeringProbe = false;
      });
  }

  private onData(chunk: Buffer): void {
    if (this.closedError) return;
    let lines: string[];
    try {
      lines = this.splitter.push(chunk);
    } catch (error) {
      this.lose(new NapError('PROTOCOL', `The index server sent an oversized line: ${describeError(error)}`));
      return;
    }
    for (const line of lines) this.onLine(line);
  }

  // (seed 003, 5a) receives what the server sends: the replies to this peer's requests, and its
  // requests to this peer (PROBE, answered at once).
  private onLine(line: string): void {
    let message: IndexReply | IndexPush;
    try {
      message = decodeIndexMessage(line);
    } catch (error) {
      // A malformed pushed message is no reply: drop it. A reply we cannot read still answers the
      // oldest request: fail that one, keep the order.
      const waiting = isPushLine(line) ? undefined : this.pending.shift();
      if (waiting === undefined) {
        this.options.log(`ignored a bad line from the index server: ${describeError(error)}`);
        return;
      }
      clearTimeout(waiting.timer);
      waiting.reject(error as Error);
      return;
    }
    if (isIndexPush(message)) {
      if (message.type === 'PROBE') this.answerProbe();
      else this.options.onPush(message);
      return;
    }
    const waiting = this.pending.shift();
    if (waiting === undefined) {
      this.options.log(`ignored an unexpected ${message.type} from the index server`);
      return;
    }
    clearTimeout(waiting.timer);
    if (message.type !== 'PONG') this.options.log(`<- ${message.type}`);
    waiting.resolve(message);
  }
}
