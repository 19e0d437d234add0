/**
 * The downloader's side of a streamed INFO (docs/protocol.md, "Streamed INFO"): after INFO_HEAD,
 * PREFIXES lines bring the prefix hashes in order, and INFO_END the file's SHA-256. Lines are
 * read only when a hash not yet known is asked for, so an uploader that runs ahead waits in its
 * socket, not in our memory. Every line is checked: hashes in order, no more than the file's
 * pieces, and INFO_END equal to the last prefix hash.
 */
import { createHash } from 'node:crypto';
import type net from 'node:net';
import type { SocketLines } from '../../io/socket-lines.ts';
import { describeError, NapError } from '../../shared/errors.ts';
import { pieceCount } from '../../shared/pieces.ts';
import { decodeTransferReply, type InfoHead, rejectionError } from '../../shared/transfer-protocol.ts';
import type { ExpectedHashes } from './expected-hashes.ts';

export class PrefixStream implements ExpectedHashes {
  readonly kind = 'prefixes';
  readonly size: number;
  readonly pieceSize: number;
  readonly pieceCount: number;
  readonly version: string | undefined;
  failure: Error | undefined;
  private readonly known: string[] = [];
  private whole: string | undefined;
  private reading: Promise<void> | undefined;

  /**
   * @param lineTimeoutMs how long each next line may take: the uploader hashes one piece between
   *   two lines, so a long silence is a dead or stuck source
   */
  constructor(
    private readonly socket: net.Socket,
    private readonly lines: SocketLines,
    head: InfoHead,
    private readonly peer: string,
    private readonly file: string,
    private readonly lineTimeoutMs: number,
  ) {
    this.size = head.size;
    this.pieceSize = head.pieceSize;
    this.pieceCount = pieceCount(head.size, head.pieceSize);
    this.version = head.version;
  }

  async hashOf(index: number): Promise<string> {
    if (index < 0 || index >= this.pieceCount) throw this.protocol(`there is no piece ${index}`);
    while (this.known.length <= index) await this.next();
    return this.known[index] as string;
  }

  async sha256(): Promise<string> {
    while (this.whole === undefined) await this.next();
    return this.whole;
  }

  close(): void {
    this.socket.destroy();
  }

  /** Reads and applies one line; concurrent callers share the read. */
  private next(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.reading ??= this.readLine()
      .catch((error: Error) => {
        this.failure = error;
        this.close();
        throw error;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  private async readLine(): Promise<void> {
    const line = await this.lines.nextLine(this.lineTimeoutMs);
    let reply: ReturnType<typeof decodeTransferReply>;
    try {
      reply = decodeTransferReply(line);
    } catch (error) {
      throw this.protocol(`a malformed line (${describeError(error)})`);
    }
    switch (reply.type) {
      case 'PREFIXES':
        if (reply.first !== this.known.length)
          throw this.protocol(`prefix hashes from ${reply.first}, expected ${this.known.length}`);
        if (this.known.length + reply.hashes.length > this.pieceCount)
          throw this.protocol(`more prefix hashes than the ${this.pieceCount} pieces`);
        this.known.push(...reply.hashes);
        return;
      case 'INFO_END': {
        if (this.known.length !== this.pieceCount)
          throw this.protocol(`INFO_END after ${this.known.length} of ${this.pieceCount} prefix hashes`);
        const last = this.known[this.pieceCount - 1] ?? createHash('sha256').digest('hex');
        if (reply.sha256 !== last)
          throw this.protocol('an INFO_END SHA-256 that is not its last prefix hash');
        this.whole = reply.sha256;
        return;
      }
      case 'DOWNLOAD_REJECTED':
        throw rejectionError(this.peer, this.file, reply);
      default:
        throw this.protocol(`${reply.type} in the middle of INFO`);
    }
  }

  private protocol(what: string): NapError {
    return new NapError('PROTOCOL', `The ${this.peer} sent ${what} for ${this.file}.`);
  }
}
