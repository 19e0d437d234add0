/**
 * Line-at-a-time reading from a socket that later carries raw bytes (the transfer protocol): read
 * a header line, then take the bytes that came with it and hand the socket to a byte consumer.
 */
import type net from 'node:net';
import { NapError } from '../shared/errors.ts';
import { LineSplitter } from '../shared/line-splitter.ts';

export class SocketLines {
  private readonly splitter: LineSplitter;
  private ended = false;
  private failure: Error | undefined;

  constructor(
    private readonly socket: net.Socket,
    maxLineBytes: number,
    private readonly peerName: string,
  ) {
    this.splitter = new LineSplitter(maxLineBytes);
    socket.pause();
  }

  /** The next line; rejects if the socket ends first, the line is too long, or time runs out. */
  nextLine(timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const finish = (error: Error | null, line?: string) => {
        clearTimeout(timer);
        this.socket.off('data', onData);
        this.socket.off('end', onEnd);
        this.socket.off('close', onEnd);
        this.socket.off('error', onError);
        this.socket.pause();
        if (error) reject(error);
        else resolve(line as string);
      };
      const take = (chunk?: Buffer): boolean => {
        try {
          const line = this.splitter.shift(chunk);
          if (line === null) return false;
          finish(null, line);
        } catch (error) {
          finish(error as Error);
        }
        return true;
      };
      const onData = (chunk: Buffer) => void take(chunk);
      const onEnd = () => {
        this.ended = true;
        finish(new NapError('CONNECTION_CLOSED', `${this.peerName} closed the connection before answering.`));
      };
      const onError = (error: Error) => {
        this.failure = error;
        finish(
          new NapError('CONNECTION_CLOSED', `Lost ${this.peerName}: ${error.message}.`, { cause: error }),
        );
      };
      const timer = setTimeout(() => {
        finish(new NapError('TIMEOUT', `${this.peerName} sent nothing for ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      if (take()) return;
      if (this.failure) return onError(this.failure);
      if (this.ended || this.socket.readableEnded || this.socket.destroyed) return onEnd();
      this.socket.on('data', onData);
      this.socket.once('end', onEnd);
      this.socket.once('close', onEnd);
      this.socket.once('error', onError);
      this.socket.resume();
    });
  }

  /** Bytes that arrived after the last line read. The socket stays paused for its next owner. */
  takeRest(): Buffer {
    return this.splitter.takeRest();
  }
}
