/**
 * The uploader's side of a streamed INFO (docs/protocol.md, "Streamed INFO"): INFO_HEAD at once,
 * then each prefix hash as the pass over the file computes it (PREFIXES lines), then INFO_END
 * with the file's SHA-256 — or DOWNLOAD_REJECTED CHANGED if the file changed meanwhile. A
 * downloader can so fetch and verify the first pieces while the uploader still reads the rest.
 */
import type { GuardedConnection } from '../io/connection-guard.ts';
import { describeError, isNapError } from '../shared/errors.ts';
import { encodeLine } from '../shared/json-line.ts';
import { MAX_PREFIXES_PER_LINE, rejection } from '../shared/transfer-protocol.ts';
import type { HashPass } from './hash-pass.ts';

/**
 * Sends `pass`'s results on `connection` as they come, then ends it. Writes wait while the
 * socket's buffer is not drained: a downloader that does not read holds at most one line of
 * ours (the hashes themselves are the pass's, shared by every reader), and one that reads
 * nothing for `stallMs` is cut off. The last line gets `stallMs` to be read (finish).
 */
export async function streamInfo(
  connection: GuardedConnection,
  file: string,
  pass: HashPass,
  stallMs: number,
): Promise<void> {
  const socket = connection.socket;
  const head = { type: 'INFO_HEAD', size: pass.size, pieceSize: pass.pieceSize, version: pass.version };
  socket.write(encodeLine(head));
  let sent = 0;
  let wake: (() => void) | undefined;
  const signal = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const stop = pass.watch(signal);
  socket.once('close', signal);
  try {
    for (;;) {
      if (connection.done) return;
      if (socket.writableNeedDrain) {
        await connection.drained(stallMs);
        continue;
      }
      if (sent < pass.prefixes.length) {
        const hashes = pass.prefixes.slice(sent, sent + MAX_PREFIXES_PER_LINE);
        socket.write(encodeLine({ type: 'PREFIXES', first: sent, hashes }));
        sent += hashes.length;
        continue;
      }
      if (pass.failure) {
        const refusal = isNapError(pass.failure, 'CHANGED')
          ? rejection('CHANGED', `${file} changed while it was being hashed; ask INFO again.`)
          : rejection('IO_ERROR', `${file} could not be read: ${describeError(pass.failure)}`);
        connection.finish(encodeLine(refusal), stallMs);
        return;
      }
      if (pass.sha256 !== undefined) {
        connection.finish(encodeLine({ type: 'INFO_END', sha256: pass.sha256 }), stallMs);
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stop();
    socket.off('close', signal);
  }
}
