/**
 * INFO requests (size, SHA-256, piece hashes) to a download's sources, and the choice of the
 * version to fetch when sources disagree: the one most sources hold, ties to the first listed.
 *
 * Verification is decided before anyone is asked, from what the index said (Source.plain), never
 * from how a source behaves: a source that must be verified and fails INFO (refused, reset,
 * silent, closed, a malformed answer) is retried or dropped, and is never fetched unverified.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectTcp } from '../../io/connect.ts';
import { SocketLines } from '../../io/socket-lines.ts';
import { describeError, isNapError, NapError } from '../../shared/errors.ts';
import { encodeLine } from '../../shared/json-line.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import {
  decodeTransferReply,
  type FileInfo,
  MAX_TRANSFER_REPLY_BYTES,
  rejectionError,
  type TransferReply,
} from '../../shared/transfer-protocol.ts';
import { type ExpectedHashes, piecesOf } from './expected-hashes.ts';
import { PrefixStream } from './prefix-stream.ts';
import { IDLE_TIMEOUT_MS, type Source } from './range-receiver.ts';
import { VersionVote } from './version-vote.ts';

/**
 * An uploader hashes a file on its first INFO (about 1 GB/s, slower on slow disks): give it time
 * for a file of hundreds of GB before calling it dead.
 */
export const INFO_TIMEOUT_MS = 10 * 60_000;
/**
 * INFO attempts per source when it fails in a way that may pass (refused, reset, closed, silent,
 * busy, its file changing): an uploader at its connection cap refuses for a moment, not forever.
 */
export const INFO_ATTEMPTS = 4;
/**
 * Of those, attempts that may end in a timeout: a source silent for INFO_TIMEOUT_MS is asked once
 * more (its hashes may be cached by then), not three times more — that would hold a DOWNLOAD for
 * 40 minutes.
 */
export const INFO_TIMEOUT_ATTEMPTS = 2;
/** Pause before the second attempt; it doubles after each (0.5 s, 1 s, 2 s: about 3.5 s in all). */
export const INFO_RETRY_DELAY_MS = 500;
/**
 * Sources one download asks at most, where a SEARCH_OK may list thousands of holders: 8 keep all
 * of a download's piece buffers busy (piece-transfer.ts: 2 each, 12 in all) for 8 connections
 * at a time. Picked at random among the holders, so that holders listed first (many addresses of
 * one party, say) are no likelier to be asked than the others; a DOWNLOAD again picks again.
 */
export const MAX_DOWNLOAD_SOURCES = 8;

export interface InfoOptions {
  /** A single source is asked for its prefix hashes streamed (a fresh download, in order). */
  prefixes?: boolean;
  answerChallenge?: ((file: string, nonce: string) => string) | undefined;
  /** Wait for each INFO_OK (default INFO_TIMEOUT_MS; tests shorten it). */
  timeoutMs?: number | undefined;
  /** First pause between attempts (default INFO_RETRY_DELAY_MS). */
  retryDelayMs?: number | undefined;
  log?: Log | undefined;
  /** Stops asking (a cancelled download): the connection is cut, no attempt follows. */
  signal?: AbortSignal | undefined;
}

/** One INFO request to `source`. A reply that is not a valid INFO_OK is a PROTOCOL error. */
export async function fetchInfo(source: Source, file: string, options: InfoOptions = {}): Promise<FileInfo> {
  const answer = await askInfo(source, file, options, false);
  if (answer instanceof PrefixStream) throw new NapError('PROTOCOL', 'A streamed INFO was not asked for.');
  return answer;
}

/**
 * One INFO request asking for the prefix hashes streamed (napshare uploaders answer INFO_HEAD,
 * then the hashes as they compute them); an uploader that does not stream answers INFO_OK.
 */
export async function fetchExpected(
  source: Source,
  file: string,
  options: InfoOptions = {},
): Promise<ExpectedHashes> {
  const answer = await askInfo(source, file, options, true);
  return answer instanceof PrefixStream ? answer : piecesOf(answer);
}

async function askInfo(
  source: Source,
  file: string,
  options: InfoOptions,
  prefixes: boolean,
): Promise<FileInfo | PrefixStream> {
  const peer = `peer ${source.host}:${source.port}`;
  const timeoutMs = options.timeoutMs ?? INFO_TIMEOUT_MS;
  const { signal } = options;
  const socket = await connectTcp(source.host, source.port, 'the peer', { signal });
  // Cut, the connection fails the wait for an answer (or the stream's next line) at once.
  const cut = () => socket.destroy();
  signal?.addEventListener('abort', cut, { once: true });
  let streaming = false;
  try {
    socket.write(encodeLine(prefixes ? { type: 'INFO', file, prefixes: true } : { type: 'INFO', file }));
    const lines = new SocketLines(socket, MAX_TRANSFER_REPLY_BYTES, `The ${peer}`);
    let reply = decodeInfoReply(await lines.nextLine(timeoutMs), peer);
    if (reply.type === 'AUTH_CHALLENGE') {
      if (!options.answerChallenge)
        throw new NapError('REJECTED', `The ${peer} asks a password for ${file}.`);
      socket.write(encodeLine({ type: 'AUTH', proof: options.answerChallenge(file, reply.nonce) }));
      reply = decodeInfoReply(await lines.nextLine(timeoutMs), peer);
    }
    if (reply.type === 'DOWNLOAD_REJECTED') throw rejectionError(peer, file, reply);
    if (reply.type === 'INFO_HEAD' && prefixes) {
      streaming = true;
      // Between two lines the uploader hashes one piece: silence means a dead source.
      return new PrefixStream(socket, lines, reply, peer, file, IDLE_TIMEOUT_MS);
    }
    if (reply.type !== 'INFO_OK')
      throw new NapError('PROTOCOL', `The ${peer} answered ${reply.type} to INFO.`);
    const { type: _type, ...info } = reply;
    return info;
  } finally {
    // A stream keeps the socket (and the cut) until it closes.
    if (streaming) socket.once('close', () => signal?.removeEventListener('abort', cut));
    else {
      signal?.removeEventListener('abort', cut);
      socket.destroy();
    }
  }
}

function decodeInfoReply(line: string, peer: string): TransferReply {
  try {
    return decodeTransferReply(line);
  } catch (error) {
    throw new NapError('PROTOCOL', `The ${peer} sent a malformed answer to INFO (${describeError(error)}).`);
  }
}

/** Failures of INFO that may pass: asked again after a pause. The others are a verdict. */
export function infoRetryable(error: unknown): boolean {
  if (!isNapError(error)) return true; // an unexpected socket error: like a reset
  switch (error.code) {
    case 'CONNECT_FAILED':
    case 'CONNECTION_CLOSED':
    case 'TIMEOUT':
    case 'BUSY':
    case 'CHANGED':
      return true;
    default:
      return false;
  }
}

/** INFO with up to INFO_ATTEMPTS attempts (INFO_TIMEOUT_ATTEMPTS timeouts) while it fails in a way that may pass. */
export function fetchInfoRetrying(
  source: Source,
  file: string,
  options: InfoOptions = {},
): Promise<FileInfo> {
  return retrying(source, options, () => fetchInfo(source, file, options));
}

async function retrying<T>(source: Source, options: InfoOptions, ask: () => Promise<T>): Promise<T> {
  const log = options.log ?? silentLog;
  const delay = options.retryDelayMs ?? INFO_RETRY_DELAY_MS;
  let timeouts = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await ask();
    } catch (error) {
      if (isNapError(error, 'TIMEOUT')) timeouts++;
      const last = attempt >= INFO_ATTEMPTS || timeouts >= INFO_TIMEOUT_ATTEMPTS;
      if (options.signal?.aborted) throw error;
      if (!infoRetryable(error) || last) throw infoFailure(error, attempt);
      const pause = delay * 2 ** (attempt - 1);
      log(
        `${source.host}:${source.port}: INFO attempt ${attempt} failed (${describeError(error)}); again in ${pause} ms`,
      );
      await sleep(pause, undefined, { signal: options.signal });
    }
  }
}

/** The last INFO error, its code kept, with how many attempts were made. */
function infoFailure(error: unknown, attempts: number): unknown {
  if (attempts === 1 || !isNapError(error)) return error;
  return new NapError(error.code, `${describeError(error).replace(/\.$/, '')} (${attempts} attempts).`, {
    cause: error,
  });
}

export interface VersionChoice {
  /** What to verify against; undefined when every source may only be fetched plainly. */
  expected: ExpectedHashes | undefined;
  /** The sources that hold that version. */
  sources: Source[];
  /** When `info` is undefined: the sources the index lists without INFO, to fetch unverified. */
  plain: Source[];
  /** Sources not used, and why. */
  dropped: { source: Source; reason: string }[];
  /**
   * Sources still answering INFO when the choice was made (a majority already agreed): each
   * settles once its answer is in, as a source that holds the chosen version (its `version` set)
   * or as one not to use, with the reason.
   */
  late: Promise<LateAnswer>[];
  /** Stops asking the late sources (the download is over): their connections are cut. */
  stopLate: () => void;
}

/** A late source's answer: `reason` set when it is not to be used. */
export interface LateAnswer {
  source: Source;
  reason?: string;
}

/**
 * Asks INFO of every source that must be verified (all those not marked `plain`) and keeps the
 * version most of them hold (version-vote.ts), decided as soon as one version is held by more
 * than half of them: a source that is slow or silent at INFO then holds nothing back, and joins
 * later if it holds that version (VersionChoice.late). Plain sources are used only when there is
 * no other kind: a source that must be verified and fails never lets the download fall back to
 * them. With `prefixes`, a single source is asked for its prefix hashes streamed (the file then
 * comes in order from it); otherwise sources give their piece hashes, to be compared and to check
 * any piece alone.
 */
export async function chooseVersion(
  sources: Source[],
  file: string,
  options: InfoOptions = {},
): Promise<VersionChoice> {
  const listed = sources.filter((source) => source.plain !== true);
  const verifying = sampleInOrder(listed, MAX_DOWNLOAD_SOURCES);
  if (verifying.length < listed.length)
    options.log?.(
      `${listed.length} peers hold ${file}; asking ${verifying.length} of them, picked at random (at most ${MAX_DOWNLOAD_SOURCES} sources per download)`,
    );
  const plain = sources.filter((source) => source.plain === true);
  const none = { late: [], stopLate: () => undefined };
  if (verifying.length === 0) return { expected: undefined, sources: [], plain, dropped: [], ...none };
  const dropPlain = plain.map((source) => ({
    source,
    reason: 'it gives no piece hashes, and other holders of the file do',
  }));
  if (verifying.length === 1 && options.prefixes) {
    const [only] = verifying as [Source];
    const expected = await retrying(only, options, () => fetchExpected(only, file, options)).catch(
      (error: unknown) => {
        throw unverifiable(file, verifying, [error]);
      },
    );
    return { expected, sources: [only], plain: [], dropped: dropPlain, ...none };
  }
  // Cut by stopLate, or by the caller's signal: the INFO requests still under way end.
  const asking = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, asking.signal]) : asking.signal;
  const vote = new VersionVote<FileInfo>(verifying.length);
  const answered = (index: number) => (vote.ballot(index) as { value: FileInfo }).value;
  const holder = (index: number, info: FileInfo): Source => ({
    ...(verifying[index] as Source),
    version: info.version,
  });
  return new Promise((resolve, reject) => {
    let chosen: string | undefined;
    const lateAnswers = new Map<number, (answer: LateAnswer) => void>();
    const decide = () => {
      const winner = vote.decision();
      if (winner === undefined) return;
      if (winner === null) {
        reject(unverifiable(file, verifying, vote.failures()));
        return;
      }
      chosen = winner.key;
      const dropped: VersionChoice['dropped'] = [];
      const late: Promise<LateAnswer>[] = [];
      verifying.forEach((source, index) => {
        const ballot = vote.ballot(index);
        if (ballot === undefined) late.push(new Promise((settle) => lateAnswers.set(index, settle)));
        else if ('error' in ballot) dropped.push({ source, reason: describeError(ballot.error) });
      });
      dropped.push(...dropPlain);
      for (const other of vote.others(winner.key))
        for (const index of other.members)
          dropped.push(otherVersion(verifying[index] as Source, file, other.value));
      resolve({
        expected: piecesOf(winner.value),
        sources: winner.members.map((index) => holder(index, answered(index))),
        plain: [],
        dropped,
        late,
        stopLate: () => asking.abort(),
      });
    };
    const arrived = (index: number) => {
      if (chosen === undefined) return decide();
      const settle = lateAnswers.get(index);
      const ballot = vote.ballot(index);
      if (!settle || ballot === undefined) return;
      lateAnswers.delete(index);
      const source = verifying[index] as Source;
      if ('error' in ballot) settle({ source, reason: describeError(ballot.error) });
      else if (ballot.key !== chosen) settle(otherVersion(source, file, ballot.value));
      else settle({ source: holder(index, ballot.value) });
    };
    verifying.forEach((source, index) => {
      fetchInfoRetrying(source, file, { ...options, signal }).then(
        (info) => {
          vote.answer(index, versionKey(info), info);
          arrived(index);
        },
        (error: unknown) => {
          vote.fail(index, error);
          arrived(index);
        },
      );
    });
  });
}

/** `count` of `items` picked at random (all of them when there are no more), in their order. */
export function sampleInOrder<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  const indexes = items.map((_, i) => i);
  // A partial Fisher-Yates shuffle: the first `count` places get a uniform sample.
  for (let i = 0; i < count; i++) {
    const j = randomInt(i, indexes.length);
    [indexes[i], indexes[j]] = [indexes[j] as number, indexes[i] as number];
  }
  return indexes
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((i) => items[i] as T);
}

/** What makes two INFO_OK answers the same version: the bytes they describe. */
function versionKey(info: FileInfo): string {
  return `${info.size}:${info.sha256}:${info.pieceSize}`;
}

function otherVersion(source: Source, file: string, info: FileInfo): { source: Source; reason: string } {
  return { source, reason: `it has another version of ${file} (SHA-256 ${info.sha256.slice(0, 12)}...)` };
}

/**
 * No source that must be verified gave its piece hashes. A missing file or a refusal is said as
 * the source said it; any other failure says that nothing unverified is fetched instead.
 */
function unverifiable(file: string, sources: Source[], failures: unknown[]): NapError {
  const first = failures[0];
  const code = isNapError(first) ? first.code : 'CONNECTION_CLOSED';
  if (isNapError(first, 'NOT_FOUND') || isNapError(first, 'REJECTED')) return first;
  const cause = describeError(first).replace(/\.$/, '');
  const who =
    sources.length === 1
      ? `its peer ${(sources[0] as Source).host}:${(sources[0] as Source).port} must give piece hashes (INFO) and did not (${cause})`
      : `none of its ${sources.length} peers gave the piece hashes they must give (INFO) (the first: ${cause})`;
  return new NapError(code, `${file} was not downloaded, as nothing unverified is saved: ${who}.`, {
    cause: first,
  });
}
