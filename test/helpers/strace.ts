/**
 * Runs a command under strace (the Debian package, installed by .ci/run) and reads back the
 * system calls it made, in the order they happened, for tests of what napshare asks of the kernel
 * (e.g. that a folder is fsynced after a file's name is linked into it). No strace is a failure,
 * never a skip: the guarantee would go untested.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';

export interface Syscall {
  pid: number;
  name: string;
  /** The arguments as strace prints them (strings quoted, in full: `-s 4096`). */
  args: string;
  /** The return value (a number), or NaN when strace did not see it return (the process ended). */
  result: number;
  /** Position in the trace of the call's start and of its return: the order in which they happened. */
  started: number;
  returned: number;
}

/** The command prefix that traces `syscalls` of a process and all its threads into `traceFile`. */
export function straceCommand(traceFile: string, syscalls: string[]): string[] {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
  } catch (error) {
    throw new Error(
      `strace is needed by this test (apt-get install strace; .ci/run installs it): ${(error as Error).message}`,
    );
  }
  return ['strace', '-f', '-qq', '-s', '4096', '-o', traceFile, '-e', `trace=${syscalls.join(',')}`, '--'];
}

const WHOLE = /^(\d+) +(\w+)\((.*)\) += (-?\d+|\?)/;
const UNFINISHED = /^(\d+) +(\w+)\((.*) <unfinished \.\.\.>$/;
const RESUMED = /^(\d+) +<\.\.\. (\w+) resumed>(.*)\) += (-?\d+|\?)/;

/** The calls in `traceFile` (written by straceCommand), a call cut by another thread's made whole. */
export async function readTrace(traceFile: string): Promise<Syscall[]> {
  const lines = (await fs.readFile(traceFile, 'utf8')).split('\n');
  const calls: Syscall[] = [];
  const open = new Map<number, Syscall>();
  lines.forEach((line, at) => {
    let match = WHOLE.exec(line);
    if (match) {
      const [, pid, name, args, result] = match as unknown as string[];
      calls.push({
        pid: Number(pid),
        name: name as string,
        args: args as string,
        result: Number(result),
        started: at,
        returned: at,
      });
      return;
    }
    match = UNFINISHED.exec(line);
    if (match) {
      const [, pid, name, args] = match as unknown as string[];
      const call = {
        pid: Number(pid),
        name: name as string,
        args: args as string,
        result: Number.NaN,
        started: at,
        returned: Number.POSITIVE_INFINITY,
      };
      open.set(call.pid, call);
      calls.push(call);
      return;
    }
    match = RESUMED.exec(line);
    if (match) {
      const [, pid, , rest, result] = match as unknown as string[];
      const call = open.get(Number(pid));
      if (!call) return;
      open.delete(call.pid);
      call.args += rest as string;
      call.result = Number(result);
      call.returned = at;
    }
  });
  return calls.sort((a, b) => a.started - b.started);
}

/** A path as strace prints it (ASCII paths: quoted, as JSON quotes them). */
export function quoted(filePath: string): string {
  return JSON.stringify(filePath);
}

/**
 * The quoted paths among a call's arguments, in order: link() and linkat() (AT_FDCWD, path, ...)
 * name the same two, whichever the C library used.
 */
export function pathsOf(call: Syscall): string[] {
  return call.args.split(', ').filter((arg) => arg.startsWith('"'));
}

/**
 * The fsync of `folder` that started after trace position `after`: on a descriptor an openat of
 * exactly `folder` returned and that was not closed in between. Undefined if there is none.
 */
export function folderSyncAfter(calls: Syscall[], folder: string, after: number): Syscall | undefined {
  for (const opened of calls) {
    if (opened.name !== 'openat' || pathsOf(opened)[0] !== quoted(folder) || !(opened.result >= 0)) continue;
    const fd = String(opened.result);
    const closed = calls.find(
      (call) => call.name === 'close' && call.args === fd && call.started > opened.returned,
    );
    const sync = calls.find(
      (call) =>
        call.name === 'fsync' &&
        call.args === fd &&
        call.result === 0 &&
        call.started > Math.max(after, opened.returned) &&
        (!closed || call.started < closed.started),
    );
    if (sync) return sync;
  }
  return undefined;
}
