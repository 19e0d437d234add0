/**
 * Fetching a file's missing pieces from its sources into the `.part`: one streamed range for one
 * source; for several, runs of pieces handed out to all of them (see PieceSchedule), each piece
 * hashed as it lands and kept only if it matches. A source that fails is retried after a pause or
 * dropped, and gives its pieces back to the others.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, isNapError, NapError } from '../../shared/errors.ts';
import type { Log } from '../../shared/log.ts';
import { pieceRange } from '../../shared/pieces.ts';
import type { DownloadOptions } from './download-options.ts';
import type { ExpectedHashes } from './expected-hashes.ts';
import { isLocalError, localFailure } from './local-errors.ts';
import type { PartFile, PartScan } from './part-file.ts';
import { PieceSchedule, type Run } from './piece-schedule.ts';
import { PrefixChain } from './prefix-chain.ts';
import { type PieceEnd, receiveRange, type Source } from './range-receiver.ts';
import { SlotPool } from './slot-pool.ts';
import type { LateAnswer } from './source-info.ts';
import { HashThreadLost, type ThreadHash } from './thread-hash.ts';

/**
 * Buffers of a one-source download: units of 2 MiB written as they fill, one filling while the
 * other is written (O_DIRECT: the write waits for the disk). 4 MiB in all, whatever the piece
 * size, where two whole pieces took 8 MiB of the 100 MiB budget (more for files with larger
 * pieces); 1 MiB units cost 8% more CPU in writes, 4 MiB ones 8% less (docs/performance.md).
 */
const SINGLE_SOURCE_UNIT_BYTES = 2 * 1024 * 1024;
const SINGLE_SOURCE_SLOTS = 2;
/**
 * Piece buffers per source when there are several, and in all (the download's memory bound):
 * whole pieces, each checked before it is written.
 */
const SLOTS_PER_SOURCE = 2;
const MAX_SLOTS = 12;
/** Consecutive failures (connection lost, refused as BUSY) before a source is given up. */
const MAX_SOURCE_FAILURES = 3;
/** First wait before asking a failing source again; doubles with each failure. */
const RETRY_DELAY_MS = 250;

/** Why ranges still under way are cut once every piece is held (endgame duplicates). */
const FILE_COMPLETE = new NapError('CONNECTION_CLOSED', 'The file is complete.');

export class Transfer {
  private readonly schedule: PieceSchedule;
  private readonly slots: SlotPool;
  private readonly multi: boolean;
  private readonly used = new Set<Source>();
  /** Aborted when the file is complete, to cut ranges still under way (endgame duplicates). */
  private readonly finished = new AbortController();
  private transferred = 0;
  /** run() returned: a late source's answer is not acted on any more. */
  private ended = false;
  /** Bytes received of pieces not verified yet. */
  private arriving = 0;
  private active = 0;
  private lastError: unknown;
  /** A source's file changed (CHANGED): the download starts again from a new INFO. */
  private sawChanged: unknown;
  /**
   * The folder failed (disk full, no permission...) or the SHA-256 thread was lost: nothing a
   * source did, so no source is blamed or dropped; every source stops at once.
   */
  private localError: unknown;
  /** Bytes on disk of `partialPiece` from an interrupted download (one-source resume only). */
  private partialBytes: number;
  private readonly partialPiece: number;
  /** Verifying by prefix hashes: the running SHA-256 at the end of the verified pieces. */
  private readonly chain: PrefixChain<ThreadHash> | undefined;
  /** One source: the writes of each piece's units so far, awaited before the piece counts. */
  private readonly unitWrites = new Map<number, Promise<void>[]>();

  constructor(
    private readonly options: DownloadOptions,
    private readonly expected: ExpectedHashes,
    private readonly part: PartFile,
    scan: PartScan,
    private readonly sources: Source[],
    private readonly log: Log,
    /** Sources still answering INFO (source-info.ts): those holding this version join when they do. */
    private readonly late: readonly Promise<LateAnswer>[] = [],
  ) {
    const { have, partialBytes } = scan;
    // A late source counts from the start: most answer within moments of the others.
    this.schedule = new PieceSchedule(have, sources.length + late.length);
    this.multi = sources.length > 1;
    this.partialBytes = this.multi ? 0 : partialBytes;
    this.partialPiece = have.indexOf(false);
    // Prefix hashes check a file that comes in order from one source, from its first byte.
    if (expected.kind === 'prefixes' && (this.multi || !scan.chain || have.some(Boolean))) {
      // The running hash the scan started is this transfer's to let go (the thread holds it).
      scan.chain?.forget();
      throw new NapError('PROTOCOL', 'Prefix hashes check only a fresh download from one source.');
    }
    this.chain = scan.chain && new PrefixChain(scan.chain);
    const slotCount = this.multi
      ? Math.min(MAX_SLOTS, SLOTS_PER_SOURCE * (sources.length + late.length) + 1)
      : SINGLE_SOURCE_SLOTS;
    const slotBytes = this.multi
      ? expected.pieceSize
      : Math.min(SINGLE_SOURCE_UNIT_BYTES, expected.pieceSize);
    // A small file needs no large buffers.
    this.slots = new SlotPool(Math.max(1, Math.min(slotBytes, expected.size)), slotCount);
  }

  async run(): Promise<{ transferred: number; usedSources: Source[] }> {
    // Cancelled (DownloadOptions.signal): every range under way is cut, as when the file completes.
    const cancel = () => this.finished.abort(this.options.signal?.reason);
    if (this.options.signal?.aborted) cancel();
    this.options.signal?.addEventListener('abort', cancel, { once: true });
    this.report();
    try {
      await this.workAll();
    } finally {
      this.ended = true;
      this.options.signal?.removeEventListener('abort', cancel);
      this.chain?.dispose();
    }
    this.finished.abort(FILE_COMPLETE);
    this.slots.dispose();
    if (!this.schedule.complete) throw this.failure();
    return { transferred: this.transferred, usedSources: [...this.used] };
  }

  /**
   * Every source's loop, the late ones' too as they join: done once no loop runs and no late
   * source can still join (none is left, the file is complete, or the download stopped).
   */
  private workAll(): Promise<void> {
    const stopped = () =>
      this.schedule.complete || this.localError !== undefined || this.options.signal?.aborted === true;
    return new Promise((resolve, reject) => {
      let running = 0;
      let waiting = this.late.length;
      const check = () => {
        if (running === 0 && (waiting === 0 || stopped())) resolve();
      };
      const start = (source: Source) => {
        running++;
        this.work(source).then(() => {
          running--;
          check();
        }, reject);
      };
      for (const source of this.sources) start(source);
      for (const answer of this.late)
        void answer.then(({ source, reason }) => {
          waiting--;
          // Too late to matter: the download is over, or going without it.
          if (stopped() || this.ended) return check();
          if (reason !== undefined) this.log(`not using ${source.host}:${source.port}: ${reason}`);
          else {
            this.log(
              `${source.host}:${source.port} gave its INFO after the download started; fetching from it too`,
            );
            start(source);
          }
          check();
        });
      check();
    });
  }

  /** Why the file is not complete, in one sentence that says what is kept. */
  private failure(): NapError {
    const held = this.schedule.heldCount;
    const kept =
      held > 0
        ? `${held} of ${this.expected.pieceCount} pieces of ${this.options.file} are kept in ${path.basename(this.part.path)}`
        : `no verified piece of ${this.options.file} is kept yet`;
    const local = localFailure(this.localError, this.options.folderTyped ?? this.options.folder, kept);
    if (local) return local;
    // Asked again from a new INFO by the caller: the file changed at its source.
    const cause = this.localError ?? this.sawChanged ?? this.lastError;
    const reason = cause ? describeError(cause).replace(/\.$/, '') : 'no source could send it';
    return new NapError(
      // A lost SHA-256 thread is this process's own failure, as a folder's is.
      isNapError(cause) ? cause.code : cause instanceof HashThreadLost ? 'IO' : 'TRUNCATED',
      `${reason}; ${kept}, DOWNLOAD again to resume.`,
      { cause },
    );
  }

  /** One source's loop: take a run of missing pieces, fetch it, until nothing is left or it fails. */
  private async work(source: Source): Promise<void> {
    let failures = 0;
    for (;;) {
      if (this.options.signal?.aborted) return;
      const run = this.schedule.take(this.multi);
      if (!run) {
        if (this.schedule.complete || !(await this.schedule.changed())) return;
        continue;
      }
      try {
        await this.fetch(source, run);
        failures = 0;
      } catch (error) {
        this.schedule.giveBack(run);
        // Cut short because the file is complete (an endgame copy won): not a failure.
        if (this.schedule.complete) return;
        // Not the source's fault, and no other source can help: stop everything.
        if (this.localError !== undefined || this.options.signal?.aborted) return;
        // The hashes stopped coming (their stream broke, the file changed): asking again is vain.
        if (this.expected.failure !== undefined) {
          if (isNapError(this.expected.failure, 'CHANGED')) this.sawChanged ??= this.expected.failure;
          this.lastError = this.expected.failure;
          return;
        }
        if (isLocalError(error) || error instanceof HashThreadLost) {
          this.localError = error;
          this.finished.abort(error);
          return;
        }
        if (isNapError(error, 'CHANGED')) this.sawChanged ??= error;
        this.lastError = error;
        const retry = worthRetrying(error);
        this.log(
          `${source.host}:${source.port}: ${describeError(error)}${retry ? '' : ' Not asking it again.'}`,
        );
        if (!retry || ++failures >= MAX_SOURCE_FAILURES) return;
        // A cancel during the pause ends it; the loop's first check then returns.
        await sleep(RETRY_DELAY_MS * 2 ** (failures - 1), undefined, { signal: this.options.signal }).catch(
          () => undefined,
        );
      }
    }
  }

  private async fetch(source: Source, run: Run): Promise<void> {
    const { pieceSize, size } = this.expected;
    let offset = pieceRange(run.first, size, pieceSize).start;
    const end = pieceRange(run.last, size, pieceSize).end;
    // A download cut inside a piece continues from its last byte on disk, with an offset request.
    let prefill: Buffer | undefined;
    if (this.partialBytes > 0 && run.first === this.partialPiece) {
      prefill = await this.part.read(offset, this.partialBytes);
      offset += prefill.length;
    }
    const counted = { bytes: 0 };
    // Writes of a range that failed are settled (it waits for them): they do not count now.
    this.unitWrites.clear();
    this.active++;
    this.report();
    try {
      await receiveRange({
        source,
        file: this.options.file,
        offset,
        length: end - offset,
        pieceSize,
        fileSize: size,
        // Each holder's own version token: holders of the same content name different ones.
        version: source.version ?? this.expected.version,
        slots: this.slots,
        chain: this.chain?.from(run.first),
        signal: this.finished.signal,
        prefill,
        answerChallenge: this.options.answerChallenge,
        onBytes: (bytes) => {
          counted.bytes += bytes;
          this.arriving += bytes;
          this.transferred += bytes;
          this.report();
        },
        onUnit: (index, position, data, pieceEnd, release) =>
          this.store(
            source,
            index,
            position,
            data,
            pieceEnd,
            index === this.partialPiece ? (prefill?.length ?? 0) : 0,
            counted,
            release,
          ),
      });
    } catch (error) {
      // A resumed partial piece that fails its hash may be the old bytes' fault: fetch it whole.
      if (prefill && isNapError(error, 'INTEGRITY') && this.partialBytes > 0) {
        this.partialBytes = 0;
        throw new NapError(
          'TRUNCATED',
          'The partial piece kept from before did not verify; fetching it whole.',
        );
      }
      throw error;
    } finally {
      this.arriving -= counted.bytes;
      this.active--;
      this.report();
    }
  }

  /**
   * Storing the file (seed 003, 5h). One source: each unit goes to the .part as it comes (nothing there is trusted: a resume checks
   * every piece again), and the piece counts as held once its last unit brings a SHA-256 that
   * matches and every unit of it is written. Several sources: units are whole pieces, checked
   * before they are written, so an endgame copy from a lying source never lands over a piece
   * another source brought. The piece's copy of the running hash (`pieceEnd.chain`) is this
   * method's: handed to the prefix chain once the piece counts, let go on every other way out
   * (a copy already held, a write or a hash that failed), or the SHA-256 thread keeps it.
   */
  private async store(
    source: Source,
    index: number,
    position: number,
    data: Buffer,
    pieceEnd: PieceEnd | undefined,
    prefilled: number,
    counted: { bytes: number },
    release: () => void,
  ): Promise<void> {
    const chain = pieceEnd?.chain;
    try {
      if (this.multi) {
        // In the endgame two sources may bring the same piece: the first verified copy is kept.
        if (this.schedule.isHeld(index)) {
          chain?.forget();
          return;
        }
        await this.verify(source, index, pieceEnd as PieceEnd, prefilled);
        await this.part.write(data, position);
      } else {
        const write = this.part.write(data, position);
        const writes = this.unitWrites.get(index) ?? [];
        writes.push(write);
        this.unitWrites.set(index, writes);
        if (!pieceEnd) return write;
        this.unitWrites.delete(index);
        // Written, the buffer is free: the wait for the piece's hash (a cold uploader still
        // computing it) must not hold it, or the socket would stop for want of a buffer.
        await write.finally(release);
        await Promise.all(writes);
        await this.verify(source, index, pieceEnd, prefilled);
      }
    } catch (error) {
      chain?.forget();
      throw error;
    }
    if (prefilled > 0) this.partialBytes = 0;
    this.used.add(source);
    this.schedule.markHeld(index);
    if (chain) this.chain?.verified(index, chain);
    // The last piece is in: stop the other sources' ranges still under way.
    if (this.schedule.complete) this.finished.abort(FILE_COMPLETE);
    const { start, end } = pieceRange(index, this.expected.size, this.expected.pieceSize);
    counted.bytes -= end - start - prefilled;
    this.arriving -= end - start - prefilled;
    this.report();
  }

  /** Throws INTEGRITY unless piece `index` has the hash it must have. */
  private async verify(source: Source, index: number, pieceEnd: PieceEnd, prefilled: number): Promise<void> {
    const [actual, wanted] = await Promise.all([pieceEnd.sha256, this.expected.hashOf(index)]);
    if (actual === wanted) return;
    throw new NapError(
      'INTEGRITY',
      prefilled > 0
        ? `Piece ${index} of ${this.options.file}, resumed from the .part, did not verify.`
        : `The peer ${source.host}:${source.port} sent piece ${index} of ${this.options.file} with the wrong content (SHA-256 mismatch).`,
    );
  }

  private report(): void {
    const held = this.schedule.heldBytes(this.expected.size, this.expected.pieceSize);
    const done = held + this.partialBytes + this.arriving;
    this.options.onProgress?.({
      done: Math.min(this.expected.size, done),
      total: this.expected.size,
      sources: this.active,
      verifiedPieces: this.schedule.heldCount,
      pieceCount: this.expected.pieceCount,
    });
  }
}

/**
 * Whether a source that failed is worth asking again after a pause: yes when it was busy, refused
 * the connection (at its connection cap, say) or its connection broke or went silent; no when it
 * lied, refused the request, lacks the file, or its file changed (a new INFO is needed).
 */
function worthRetrying(error: unknown): boolean {
  if (!isNapError(error)) return false;
  switch (error.code) {
    case 'INTEGRITY':
    case 'PROTOCOL':
    case 'CHANGED':
    case 'REJECTED':
    case 'NOT_FOUND':
      return false;
    default:
      return true;
  }
}
