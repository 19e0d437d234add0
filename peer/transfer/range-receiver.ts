/**
 * Receives one DOWNLOAD range from one source straight into the buffers of a pool (SlotPool): the
 * socket reads into the tail of the buffer being filled (`onread` with a buffer per read), so
 * bytes are never copied on the way and each read is as large as the kernel has data. A full
 * buffer — a unit: the pool's buffer size, cut at piece ends and aligned to it in the file — is
 * hashed in place by the SHA-256 thread (thread-hash.ts) while it is handed to `onUnit`, and the
 * unit that ends a piece comes with the piece's SHA-256 (once computed), to be checked; meanwhile
 * the next ones arrive. A buffer goes back to the pool only once it is hashed. With buffers as
 * large as pieces each unit is a whole piece. With no free buffer the socket pauses: memory is
 * the pool's, whatever the file's size.
 */
import type net from 'node:net';
import { connectTcp } from '../../io/connect.ts';
import { describeError, NapError } from '../../shared/errors.ts';
import { encodeLine } from '../../shared/json-line.ts';
import { LineSplitter } from '../../shared/line-splitter.ts';
import {
  type DownloadRequest,
  decodeTransferReply,
  MAX_TRANSFER_REPLY_BYTES,
  rejectionError,
} from '../../shared/transfer-protocol.ts';
import type { SlotPool } from './slot-pool.ts';
import { ThreadHash } from './thread-hash.ts';

/** Buffer for the reply line, and for a read that comes while no piece buffer is free. */
const SPILL_BYTES = 64 * 1024;
/** A source silent this long (no reply, no byte) is given up: a cut network sends no FIN. */
export const IDLE_TIMEOUT_MS = 60_000;

export interface Source {
  host: string;
  port: number;
  /**
   * True only when the index lists this holder without the INFO capability (another
   * implementation that speaks only DOWNLOAD): it may then be fetched without verification.
   * Absent, the source must be verified, whatever it answers.
   */
  plain?: boolean;
  /**
   * The version token this source's own INFO_OK named (set by chooseVersion): two holders of the
   * same bytes have different tokens (each its own file's size, mtime and inode), so each is
   * asked with its own, never another holder's.
   */
  version?: string | undefined;
}

export interface RangeRequest {
  source: Source;
  file: string;
  /** First byte wanted; may be inside the first piece when `prefill` holds the bytes before it. */
  offset: number;
  /** Bytes wanted: always up to a piece end (or the file's end). */
  length: number;
  pieceSize: number;
  fileSize: number;
  /** INFO_OK's `version`, sent along so that the uploader refuses (CHANGED) if its file changed. */
  version?: string | undefined;
  slots: SlotPool;
  /**
   * Bytes already on disk of the first piece (from its start up to `offset`), e.g. a resumed
   * .part: hashed with the piece, not handed over again.
   */
  prefill?: Buffer;
  /**
   * The running SHA-256 of the file up to the first piece's start (verifying by prefix hashes):
   * each piece's digest is then that of the file up to the piece's end, not of the piece alone.
   * It is advanced in place.
   */
  chain?: ThreadHash | undefined;
  answerChallenge?: ((file: string, nonce: string) => string) | undefined;
  /**
   * A unit of piece `piece` arrived, to go at `position` of the file; `end` when it completes the
   * piece. The buffer returns to the pool when the promise settles, or sooner when the handler
   * calls `release` (it no longer reads `data`: written, and only a hash left to compare), so the
   * socket goes on filling it meanwhile.
   */
  onUnit: (
    piece: number,
    position: number,
    data: Buffer,
    end: PieceEnd | undefined,
    release: () => void,
  ) => Promise<void>;
  /** Bytes received so far on this range (for progress). */
  onBytes?: (bytes: number) => void;
  /** Lets the caller cut the range short (a lying or dead source); rejects with `reason`. */
  signal?: AbortSignal;
}

/** What the unit that completes a piece brings. */
export interface PieceEnd {
  /** The piece's SHA-256 (hex); with `chain`, that of the file up to the piece's end. */
  sha256: Promise<string>;
  /** With `chain`: a copy of the running hash at the piece's end. */
  chain: ThreadHash | undefined;
}

export function receiveRange(request: RangeRequest): Promise<void> {
  return new RangeReceiver(request).run();
}

class RangeReceiver {
  private socket: net.Socket | undefined;
  private readonly spill = Buffer.allocUnsafe(SPILL_BYTES);
  private readonly header = new LineSplitter(MAX_TRANSFER_REPLY_BYTES);
  private inHeader = true;
  private slot: Buffer | undefined;
  private hash: ThreadHash;
  private pieceIndex: number;
  /** File position of the current unit's first byte. */
  private unitStart: number;
  /** Bytes of the current unit received. */
  private filled = 0;
  private received = 0;
  private waitingForSlot = false;
  /** No more reads are wanted: every byte arrived, or the range failed. */
  private finished = false;
  /** Every byte arrived; what remains is the last pieces' hashing and writing. */
  private complete = false;
  private failed = false;
  private readonly pending = new Set<Promise<void>>();
  private resolve!: () => void;
  private reject!: (error: Error) => void;

  constructor(private readonly r: RangeRequest) {
    this.pieceIndex = Math.floor(r.offset / r.pieceSize);
    this.unitStart = r.offset;
    this.hash = r.chain ?? ThreadHash.create();
  }

  async run(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // It may fail (cancelled) before anything awaits it, e.g. while waiting for a buffer below;
    // the awaits further down still see the failure.
    done.catch(() => undefined);
    const abort = () => this.fail(this.r.signal?.reason ?? new NapError('CONNECTION_CLOSED', 'Cancelled.'));
    this.r.signal?.addEventListener('abort', abort, { once: true });
    try {
      // Hold a buffer before connecting: a range takes its share of the pool first.
      this.slot = await this.r.slots.acquireWhenFree();
      if (this.finished) return await done;
      const { host, port } = this.r.source;
      this.socket = await connectTcp(host, port, 'the peer', {
        onread: {
          buffer: () => this.nextBuffer(),
          callback: (n, buffer) => this.onRead(n, buffer as Buffer),
        },
      });
      if (this.finished) {
        this.socket.destroy();
        return await done;
      }
      this.watch(this.socket);
      const { offset, length, file, version } = this.r;
      const request: DownloadRequest =
        offset > 0 || length < this.r.fileSize
          ? { type: 'DOWNLOAD', file, offset, length }
          : { type: 'DOWNLOAD', file };
      if (version !== undefined) request.version = version;
      // DOWNLOAD request to the peer (seed 003, 5f), for this range of the file.
      this.socket.write(encodeLine(request));
      await done;
    } catch (error) {
      this.fail(error as Error);
      await done;
    } finally {
      this.r.signal?.removeEventListener('abort', abort);
      // The running hash past the last unit handed over: nothing needs it any more.
      this.hash.forget();
      this.socket?.destroy();
      if (this.slot) this.r.slots.release(this.slot);
      this.slot = undefined;
    }
  }

  private get peer(): string {
    return `peer ${this.r.source.host}:${this.r.source.port}`;
  }

  private watch(socket: net.Socket): void {
    socket.setTimeout(IDLE_TIMEOUT_MS, () =>
      this.fail(new NapError('TIMEOUT', `The ${this.peer} sent nothing for ${IDLE_TIMEOUT_MS / 1000} s.`)),
    );
    socket.on('end', () => this.fail(this.truncated('the connection ended')));
    socket.on('close', () => this.fail(this.truncated('the connection closed')));
    socket.on('error', (error) =>
      this.fail(this.truncated(`the connection broke (${describeError(error)})`)),
    );
  }

  private truncated(what: string): NapError {
    return new NapError(
      'TRUNCATED',
      `Download of ${this.r.file} from ${this.peer} stopped: ${what} after ${this.received} of ${this.r.length} bytes.`,
    );
  }

  /** Where the next read goes: the free tail of the current unit, or the spill buffer. */
  private nextBuffer(): Buffer {
    if (this.inHeader || this.finished) return this.spill;
    if (!this.slot && !this.takeSlot()) return this.spill;
    return (this.slot as Buffer).subarray(this.filled, this.unitLength());
  }

  // Receiving the file (seed 003, 5h): the socket's bytes, straight into the piece buffers.
  private onRead(n: number, buffer: Buffer): boolean {
    if (this.finished) return false;
    if (buffer === this.spill) {
      // Header bytes are kept by the line splitter, so they are copied; body bytes go straight
      // into the unit's buffer (absorb copies only what cannot be placed yet).
      return this.inHeader
        ? this.onHeaderBytes(Buffer.from(this.spill.subarray(0, n)))
        : this.absorb(this.spill.subarray(0, n));
    }
    this.filled += n;
    this.received += n;
    this.r.onBytes?.(n);
    return this.afterFill();
  }

  private onHeaderBytes(data: Buffer): boolean {
    let line: string | null;
    try {
      line = this.header.shift(data);
      while (line !== null) {
        const reply = decodeTransferReply(line);
        if (reply.type === 'AUTH_CHALLENGE') {
          if (!this.r.answerChallenge)
            throw new NapError('REJECTED', `The ${this.peer} asks a password for ${this.r.file}.`);
          this.socket?.write(
            encodeLine({ type: 'AUTH', proof: this.r.answerChallenge(this.r.file, reply.nonce) }),
          );
        } else if (reply.type === 'DOWNLOAD_REJECTED') {
          throw rejectionError(this.peer, this.r.file, reply);
        } else if (reply.type === 'DOWNLOAD_OK') {
          if (reply.size !== this.r.length) {
            throw new NapError(
              'PROTOCOL',
              `The ${this.peer} offered ${reply.size} bytes of ${this.r.file}, not the ${this.r.length} asked.`,
            );
          }
          this.inHeader = false;
          this.startPiece();
          return this.absorb(this.header.takeRest());
        } else {
          throw new NapError('PROTOCOL', `The ${this.peer} answered ${reply.type} to DOWNLOAD.`);
        }
        line = this.header.shift();
      }
    } catch (error) {
      this.fail(error as Error);
      return false;
    }
    return true;
  }

  /** The first piece may start with bytes already on disk (a resumed partial piece). */
  private startPiece(): void {
    if (this.r.prefill) void this.hash.update(this.r.prefill);
  }

  /** Copies bytes that landed elsewhere (after the reply line, or in the spill) into pieces. */
  private absorb(data: Buffer): boolean {
    let at = 0;
    while (at < data.length && !this.finished && this.received < this.r.length) {
      if (!this.slot && !this.takeSlot()) {
        // No free buffer: keep a copy of the rest (the spill is reused) until one is released.
        const rest = Buffer.from(data.subarray(at));
        this.pauseUntilSlot(() => this.absorb(rest));
        return false;
      }
      const room = this.unitLength() - this.filled;
      const take = Math.min(room, data.length - at, this.r.length - this.received);
      data.copy(this.slot as Buffer, this.filled, at, at + take);
      at += take;
      this.filled += take;
      this.received += take;
      this.r.onBytes?.(take);
      if (this.landed()) return false;
    }
    return this.readMore();
  }

  /** After bytes land in the socket's own read: hand over, finish, or pause for a buffer. */
  private afterFill(): boolean {
    return !this.landed() && this.readMore();
  }

  /** Hands over the current unit once full; true once every byte arrived (the range is finished). */
  private landed(): boolean {
    if (this.filled === this.unitLength()) this.handOver();
    if (this.received < this.r.length) return false;
    this.finished = true;
    this.complete = true;
    void this.settle();
    return true;
  }

  /** Whether the socket may be read on: there is a buffer for the bytes, or it pauses until one is free. */
  private readMore(): boolean {
    if (this.finished) return false;
    if (!this.slot && !this.takeSlot()) {
      this.pauseUntilSlot(() => undefined);
      return false;
    }
    return true;
  }

  private handOver(): void {
    const slot = this.slot as Buffer;
    const index = this.pieceIndex;
    const position = this.unitStart;
    const data = slot.subarray(0, this.filled);
    // Hashed in place: the buffer is not refilled before the thread has read it.
    const hashed = this.hash.update(data);
    let end: PieceEnd | undefined;
    if (position + this.filled === this.pieceEnd(index)) {
      if (this.r.chain) {
        // One running hash over the file: a copy is finished into this prefix's digest.
        end = { sha256: this.hash.copy().digest(), chain: this.hash.copy() };
      } else {
        end = { sha256: this.hash.digest(), chain: undefined };
        this.hash = ThreadHash.create();
      }
      this.pieceIndex++;
    }
    this.unitStart += this.filled;
    this.slot = undefined;
    this.filled = 0;
    // Back to the pool once hashed and once the handler lets it go (release, or its end).
    let handlerDone = false;
    let hashDone = false;
    let held = true;
    const giveBack = () => {
      if (!held || !handlerDone || !hashDone) return;
      held = false;
      this.r.slots.release(slot);
    };
    void hashed
      .catch(() => undefined)
      .then(() => {
        hashDone = true;
        giveBack();
      });
    const release = () => {
      handlerDone = true;
      giveBack();
    };
    const work = this.r
      .onUnit(index, position, data, end, release)
      .catch((error: Error) => this.fail(error, true))
      .finally(() => {
        release();
        this.pending.delete(work);
      });
    this.pending.add(work);
  }

  private takeSlot(): boolean {
    this.slot = this.r.slots.acquire();
    this.filled = 0;
    return this.slot !== undefined;
  }

  private pauseUntilSlot(then: () => void): void {
    if (this.waitingForSlot) return;
    this.waitingForSlot = true;
    this.r.slots.whenFree(() => {
      this.waitingForSlot = false;
      if (this.finished) return;
      if (!this.slot) this.takeSlot();
      then();
      if (this.finished || this.waitingForSlot) return;
      if (this.slot) this.socket?.resume();
      else this.pauseUntilSlot(() => undefined);
    });
  }

  private async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    this.socket?.destroy();
    if (!this.failed) this.resolve();
  }

  /**
   * Ends the range with `error` once its pieces in hand are settled. After the last byte, only a
   * piece's own failure (hash or disk) counts: the uploader closing then is the normal end.
   */
  private fail(error: Error, fromPiece = false): void {
    if (this.failed || (this.complete && !fromPiece)) return;
    this.failed = true;
    this.finished = true;
    this.socket?.destroy();
    void (async () => {
      while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
      this.reject(error);
    })();
  }

  private pieceEnd(index: number): number {
    return Math.min(this.r.fileSize, (index + 1) * this.r.pieceSize);
  }

  /** The current unit: up to the next multiple of the buffer size in the file, or the piece's end. */
  private unitLength(): number {
    const unit = this.r.slots.slotBytes;
    const boundary = (Math.floor(this.unitStart / unit) + 1) * unit;
    return Math.min(boundary, this.pieceEnd(this.pieceIndex)) - this.unitStart;
  }
}
