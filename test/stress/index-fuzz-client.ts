/**
 * An attacker of the index server: sends random and mutated frames (index-frame-fuzz.ts) from its
 * own loopback address in pipelined batches, and reads what comes back. The server owes even an
 * attacker one well-formed line per line it sent (or its closing line); anything else — garbage,
 * a runtime error's text, silence — is counted. When the server closes the connection (a line
 * too long, a probe it did not answer), the attacker connects again and goes on.
 */
import net from 'node:net';
import { LineSplitter } from '../../shared/line-splitter.ts';
import { IndexFrameFuzzer, lineCount } from './index-frame-fuzz.ts';
import { PUSH_TYPES } from './index-session.ts';

/** Frames written at once before the answers are awaited: pipelining, with bounded buffers. */
const BATCH_FRAMES = 40;
/** How long the server has to answer a batch (or close): far more than a busy machine needs. */
const BATCH_TIMEOUT_MS = 60_000;

const REPLY_TYPES = [
  'JOIN_OK',
  'SEARCH_OK',
  'UPDATE_OK',
  'ALIAS_OK',
  'LIST_OK',
  'QUERY_OK',
  'SET_FILES_OK',
  'CHAT_OK',
  'LEAVE_OK',
  'PONG',
  'ERROR',
];
/** What a reply must never show: a runtime error reached the wire instead of a coded refusal. */
const RUNTIME_ERROR =
  /TypeError|RangeError|ReferenceError|SyntaxError|Cannot read propert|is not a function|Maximum call stack|Map maximum size|undefined/;

export interface FuzzTally {
  frames: number;
  lines: number;
  replies: number;
  /** Times the server closed an attacker's connection (it connected again), by the code it last sent. */
  closedBy: Map<string, number>;
  /** Problems: a line that is not a well-formed reply, or a batch left unanswered. */
  problems: string[];
}

export async function fuzzIndex(
  port: number,
  from: string,
  seed: number,
  frames: number,
  tally: FuzzTally,
): Promise<void> {
  const fuzzer = new IndexFrameFuzzer(seed, from);
  while (fuzzer.frames < frames) {
    const socket = await connect(port, from);
    try {
      await session(socket, fuzzer, frames, tally);
    } finally {
      socket.destroy();
    }
  }
}

async function session(
  socket: net.Socket,
  fuzzer: IndexFrameFuzzer,
  frames: number,
  tally: FuzzTally,
): Promise<void> {
  const splitter = new LineSplitter(64 * 1024 * 1024);
  let replies = 0;
  let lastCode = 'no line';
  let wake: (() => void) | undefined;
  let closed = false;
  let expected = 0;
  socket.on('data', (chunk: Buffer) => {
    for (const line of splitter.push(chunk)) {
      const problem = replyProblem(line);
      if (problem === 'push') {
        // Asked whether it is still there (another connection wants its address or alias): it
        // is, as a napshare peer says, so a slow answer to its batch does not get it dropped.
        if (line.startsWith('{"type":"PROBE"') && !socket.destroyed) {
          expected++;
          socket.write('{"type":"PING"}\n');
        }
        continue;
      }
      replies++;
      tally.replies++;
      lastCode = /^\{"type":"ERROR","code":"([A-Z_]+)"/.exec(line)?.[1] ?? 'a reply';
      if (problem) tally.problems.push(problem);
    }
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  while (fuzzer.frames < frames && !closed) {
    const batch: Buffer[] = [];
    let overlong = false;
    while (batch.length < BATCH_FRAMES && fuzzer.frames < frames && !overlong) {
      const frame = fuzzer.next();
      batch.push(frame);
      // Nothing after a line past the bound is read: the server answers it and closes.
      overlong = IndexFrameFuzzer.isOverlong(frame);
    }
    tally.frames += batch.length;
    const bytes = Buffer.concat(batch);
    const lines = lineCount(bytes);
    tally.lines += lines;
    expected += lines;
    socket.write(bytes);
    const started = performance.now();
    // After a line past the bound, the server's close is awaited too: it owes nothing more.
    while ((replies < expected || overlong) && !closed) {
      const left = BATCH_TIMEOUT_MS - (performance.now() - started);
      if (left <= 0) {
        tally.problems.push(
          replies < expected
            ? `no answer to ${expected - replies} of ${lines} lines within ${BATCH_TIMEOUT_MS} ms`
            : `not closed within ${BATCH_TIMEOUT_MS} ms after a line past the bound`,
        );
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
  if (closed && replies < expected) tally.problems.push(`closed with ${expected - replies} lines unanswered`);
  if (closed) tally.closedBy.set(lastCode, (tally.closedBy.get(lastCode) ?? 0) + 1);
}

/** 'push' for a pushed message, a description of what is wrong, or undefined for a good reply. */
function replyProblem(line: string): string | undefined | 'push' {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return `not JSON: ${JSON.stringify(line.slice(0, 200))}`;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message))
    return `not an object: ${line.slice(0, 200)}`;
  const { type, code, message: text } = message as Record<string, unknown>;
  if (typeof type === 'string' && PUSH_TYPES.includes(type)) return 'push';
  if (typeof type !== 'string' || !REPLY_TYPES.includes(type)) return `unknown reply ${line.slice(0, 200)}`;
  if (type !== 'ERROR') return undefined;
  if (typeof code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(code) || typeof text !== 'string')
    return `malformed ERROR ${line.slice(0, 200)}`;
  if (RUNTIME_ERROR.test(text)) return `a runtime error on the wire: ${line.slice(0, 300)}`;
  return undefined;
}

function connect(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
