/**
 * The two file servers as targets of the connection attacks: the course peer's (the real
 * `npm run peer` process, joined to an index) and the LAN mode's, behind per-file passwords (the
 * real `npm run peer -- lan` process). A well-behaved downloader on 127.0.0.1 fetches a file again
 * and again through napshare's verified download and compares its SHA-256. Clients that never
 * read ask for a 48 MiB file (more than loopback's buffers) and lose their slot at the stall
 * timeout; on the LAN server half of them never answer the password challenge either.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { authProof } from '../../peer/lan/password-guard.ts';
import { download } from '../../peer/transfer/download.ts';
import { IndexServer } from '../../server/index-server.ts';
import { LineSplitter } from '../../shared/line-splitter.ts';
import type { AttackSocket } from '../helpers/attackers.ts';
import { makeTempDir, sha256File, writeRandomFile } from '../helpers/files.ts';
import { withDeadline } from '../helpers/wait.ts';
import { randomGroup } from '../integration/lan-group.ts';
import type { StressContext } from './context.ts';
import { pause } from './deadline.ts';
import type { Row } from './report.ts';
import { IDLE_TIMEOUT_S, STALL_TIMEOUT_S, serveLoop, type Target } from './target.ts';

const MAX_CONNECTIONS = 256;
const PER_IP = 32;
/** A small file's download takes well under this on a busy machine. */
const DOWNLOAD_TIMEOUT_MS = 60_000;
/** Resident memory a peer may keep after an attack: a Node process, and 8 uploads' buffers. */
const MEMORY_BUDGET_MIB = 300;
/** More than loopback's kernel buffers and the server's bytes in flight: a non-reader really stalls. */
const BIG_FILE_BYTES = 48 * 1024 * 1024;
const PASSWORDS: Record<string, string> = { 'small.bin': 'pw-small', 'big.bin': 'pw-big' };

interface SharedFolder {
  dir: string;
  sha: Record<string, string>;
}

/** The folder both file servers share: a small file to download, a big one not to read. */
export async function sharedFolder(): Promise<SharedFolder> {
  const dir = await makeTempDir('napshare-stress-');
  return {
    dir,
    sha: {
      'small.bin': await writeRandomFile(path.join(dir, 'small.bin'), 300_000),
      'big.bin': await writeRandomFile(path.join(dir, 'big.bin'), BIG_FILE_BYTES),
    },
  };
}

export async function startFileTarget(
  ctx: StressContext,
  kind: 'course' | 'lan',
  folder: SharedFolder,
  timeouts: 'short' | 'default',
): Promise<Target> {
  const limits =
    timeouts === 'short'
      ? ['--request-timeout', `${IDLE_TIMEOUT_S}`, '--stall-timeout', `${STALL_TIMEOUT_S}`]
      : [];
  let port: number;
  let peer: Target['process'];
  if (kind === 'course') {
    const index = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
    ctx.defer(() => index.close());
    peer = ctx.cli(
      'peer',
      ['--server', `127.0.0.1:${index.address().port}`, '--keep-sharing', ...limits],
      'the peer',
    );
    peer.cli.send(`JOIN 127.0.0.1 0 ${folder.dir}`);
    port = Number(
      /^Sou peer 127\.0\.0\.1:(\d+) /.exec(await peer.waitFor(/^Sou peer 127\.0\.0\.1:\d+ /))?.[1],
    );
  } else {
    const group = await randomGroup();
    const args = [
      'lan',
      '--group',
      group.text,
      '--iface',
      '127.0.0.1',
      '--port',
      '0',
      '--dir',
      folder.dir,
      ...limits,
    ];
    peer = ctx.cli('peer', args, 'the LAN member');
    const ready = await peer.waitFor(/files served at 127\.0\.0\.1:\d+/, 'stderr');
    port = Number(/files served at 127\.0\.0\.1:(\d+)/.exec(ready)?.[1]);
    for (const file of Object.keys(PASSWORDS)) {
      peer.cli.send(`OFFER ${file} ${PASSWORDS[file]}`);
      await peer.waitFor(`Offering ${file}`);
    }
  }
  const timeoutMs = (timeouts === 'short' ? IDLE_TIMEOUT_S : 10) * 1000;
  const rejected = (reason: string, message: string) =>
    `${JSON.stringify({ type: 'DOWNLOAD_REJECTED', reason, message })}\n`;
  const timedOut = rejected('TIMEOUT', `No request for ${timeoutMs / 1000} s; the connection is closed.`);
  return {
    name: kind === 'course' ? 'peer file server' : 'LAN file server',
    process: peer,
    port,
    maxConnections: MAX_CONNECTIONS,
    maxPerIp: PER_IP,
    goodConnections: 0,
    attackers: ['127.0.0.66', '127.0.0.67', '127.0.0.68'],
    lines: {
      perIp: (ip) =>
        rejected(
          'BUSY',
          `Your address ${ip} already has ${PER_IP} connections open here; close one and try again.`,
        ),
      full: rejected(
        'BUSY',
        `The server already serves its maximum of ${MAX_CONNECTIONS} connections; try again later.`,
      ),
      idle: timedOut,
      unfinished: timedOut,
    },
    ownText: (socket) => socket.text,
    idleMs: timeoutMs,
    unfinishedMs: timeoutMs,
    slowPrefix: '{"type":"DOWNLOAD","file":"',
    nonReader: (socket, index) => askAndNeverRead(socket, kind === 'lan' && index % 2 === 0),
    // Cut at the stall timeout (or, BUSY or silent at the challenge, at the request timeout), then
    // dropped after the linger of a client that does not read its last line: never the whole file.
    nonReaderEnd: {
      cutAfterMs: STALL_TIMEOUT_S * 1000 + 2000,
      wasCut: (socket) => socket.bytesReceived < BIG_FILE_BYTES,
    },
    memoryBudgetMiB: MEMORY_BUDGET_MIB,
    serve: (row) => downloading(row, port, folder, kind),
    close: () => peer.stop().then(() => {}),
  };
}

/** DOWNLOAD big.bin, then never read (on the LAN server, `prove`: answer the challenge first). */
async function askAndNeverRead(socket: AttackSocket, prove: boolean): Promise<void> {
  socket.write(`${JSON.stringify({ type: 'DOWNLOAD', file: 'big.bin' })}\n`);
  if (!prove) {
    socket.socket.pause();
    return;
  }
  const splitter = new LineSplitter(1 << 16);
  const challenge = await withDeadline(
    new Promise<string>((resolve) => {
      const onData = (chunk: Buffer) => {
        const line = splitter.shift(chunk);
        if (line === null) return;
        socket.socket.off('data', onData);
        socket.socket.pause();
        resolve(line);
      };
      socket.socket.on('data', onData);
    }),
    30_000,
    'the password challenge',
  );
  const { nonce } = JSON.parse(challenge) as { nonce: string };
  socket.write(
    `${JSON.stringify({ type: 'AUTH', proof: authProof(PASSWORDS['big.bin'] as string, nonce, 'big.bin') })}\n`,
  );
}

/** Downloads small.bin again and again (verified, by SHA-256) while the server admits newcomers. */
function downloading(row: Row, port: number, folder: SharedFolder, kind: 'course' | 'lan') {
  return serveLoop((serving) => {
    const fetchOnce = async () => {
      const into = await makeTempDir('napshare-stress-');
      const started = performance.now();
      try {
        await withDeadline(
          download({
            sources: [{ host: '127.0.0.1', port }],
            file: 'small.bin',
            folder: into,
            answerChallenge:
              kind === 'lan' ? (file, nonce) => authProof(PASSWORDS[file] as string, nonce, file) : undefined,
          }),
          DOWNLOAD_TIMEOUT_MS,
          'a well-behaved download',
        );
        serving.answered(started);
        const sha = await sha256File(path.join(into, 'small.bin'));
        if (sha !== folder.sha['small.bin']) row.lostFile(`small.bin downloaded with SHA-256 ${sha}`);
      } catch (error) {
        row.wrongAnswer(
          `a well-behaved download failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      } finally {
        await fs.rm(into, { recursive: true, force: true });
      }
    };
    const loop = async () => {
      while (!serving.stopped) {
        // While the server is full on purpose, the flood checks the refusal a newcomer gets.
        if (!(await serving.admission.newcomer(fetchOnce))) await pause(100);
      }
    };
    return loop();
  });
}
