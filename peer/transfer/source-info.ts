/**
 * INFO requests (size, SHA-256, piece hashes) to a download's sources, and the choice of the
 * version to fetch when sources disagree: the one most sources hold, ties to the first listed.
 */

import { connectTcp } from '../../io/connect.ts';
import { SocketLines } from '../../io/socket-lines.ts';
import { describeError, isNapError, NapError } from '../../shared/errors.ts';
import { encodeLine } from '../../shared/json-line.ts';
import {
  decodeTransferReply,
  type FileInfo,
  MAX_TRANSFER_REPLY_BYTES,
  rejectionError,
} from '../../shared/transfer-protocol.ts';
import type { Source } from './range-receiver.ts';

/**
 * An uploader hashes a file on its first INFO (about 1 GB/s, slower on slow disks): give it time
 * for a file of hundreds of GB before calling it dead.
 */
export const INFO_TIMEOUT_MS = 10 * 60_000;

export async function fetchInfo(
  source: Source,
  file: string,
  answerChallenge?: (file: string, nonce: string) => string,
): Promise<FileInfo> {
  const peer = `peer ${source.host}:${source.port}`;
  const socket = await connectTcp(source.host, source.port, 'the peer');
  try {
    socket.write(encodeLine({ type: 'INFO', file }));
    const lines = new SocketLines(socket, MAX_TRANSFER_REPLY_BYTES, `The ${peer}`);
    let reply = decodeTransferReply(await lines.nextLine(INFO_TIMEOUT_MS));
    if (reply.type === 'AUTH_CHALLENGE') {
      if (!answerChallenge) throw new NapError('REJECTED', `The ${peer} asks a password for ${file}.`);
      socket.write(encodeLine({ type: 'AUTH', proof: answerChallenge(file, reply.nonce) }));
      reply = decodeTransferReply(await lines.nextLine(INFO_TIMEOUT_MS));
    }
    if (reply.type === 'DOWNLOAD_REJECTED') throw rejectionError(peer, file, reply);
    if (reply.type !== 'INFO_OK')
      throw new NapError('PROTOCOL', `The ${peer} answered ${reply.type} to INFO.`);
    const { size, sha256, pieceSize, pieces } = reply;
    return { size, sha256, pieceSize, pieces };
  } finally {
    socket.destroy();
  }
}

/**
 * INFO failed because the source does not speak it (a peer that implements only DOWNLOAD, as
 * DESIGN.md's transfer protocol has it), rather than because it lacks the file or is down.
 */
export function infoUnsupported(error: unknown): boolean {
  return (
    isNapError(error, 'PROTOCOL') ||
    isNapError(error, 'CONNECTION_CLOSED') ||
    isNapError(error, 'BAD_REQUEST')
  );
}

export interface VersionChoice {
  /** The version to fetch; undefined when no source answered INFO but some `plain` ones may serve it. */
  info: FileInfo | undefined;
  sources: Source[];
  /** Sources that do not speak INFO: they can only be downloaded from without verification. */
  plain: Source[];
  /** Sources that answered with another version, or not at all, and why. */
  dropped: { source: Source; reason: string }[];
}

/** Asks every source for INFO and keeps the version most of them hold. */
export async function chooseVersion(
  sources: Source[],
  file: string,
  answerChallenge?: (file: string, nonce: string) => string,
): Promise<VersionChoice> {
  const answers = await Promise.allSettled(sources.map((source) => fetchInfo(source, file, answerChallenge)));
  const groups = new Map<string, { info: FileInfo; sources: Source[] }>();
  const dropped: VersionChoice['dropped'] = [];
  const plain: Source[] = [];
  let firstError: unknown;
  answers.forEach((answer, i) => {
    const source = sources[i] as Source;
    if (answer.status === 'rejected') {
      if (infoUnsupported(answer.reason)) {
        plain.push(source);
        return;
      }
      firstError ??= answer.reason;
      dropped.push({ source, reason: describeError(answer.reason) });
      return;
    }
    const key = `${answer.value.size}:${answer.value.sha256}:${answer.value.pieceSize}`;
    const group = groups.get(key) ?? { info: answer.value, sources: [] };
    group.sources.push(source);
    groups.set(key, group);
  });
  let best: { info: FileInfo; sources: Source[] } | undefined;
  for (const group of groups.values()) if (!best || group.sources.length > best.sources.length) best = group;
  if (!best && plain.length > 0) return { info: undefined, sources: [], plain, dropped };
  if (!best) throw firstError ?? new NapError('NOT_FOUND', `No source for ${file}.`);
  for (const source of plain)
    dropped.push({ source, reason: 'it cannot say what the file should hash to (no INFO)' });
  for (const group of groups.values()) {
    if (group === best) continue;
    for (const source of group.sources)
      dropped.push({
        source,
        reason: `it has another version of ${file} (SHA-256 ${group.info.sha256.slice(0, 12)}...)`,
      });
  }
  return { info: best.info, sources: best.sources, plain: [], dropped };
}
