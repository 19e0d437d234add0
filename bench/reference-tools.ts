/**
 * The reference rows of `npm run bench -- transfer`: socat, nc and python's http.server with curl
 * copying the same file over 127.0.0.1, each run with fresh processes (servers included). One run
 * gives two rows: the time until the tool exits (its copy is then only in the page cache) and
 * the time until an fdatasync of its copy returns (on disk, the durability napshare gives).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  cpuSecondsOf,
  deepestChild,
  type Finished,
  freePort,
  listening,
  peakRssOf,
  startTimed,
  stopGroup,
  type Usage,
} from './processes.ts';

export interface ToolRun {
  /** Seconds until the tool's processes exited. */
  pageCacheSeconds: number;
  /** Seconds until the copy's fdatasync returned (same run, same start). */
  durableSeconds: number;
  sender: Usage;
  receiver: Usage;
}

export interface ReferenceTool {
  name: string;
  /** Debian packages it needs, by command. */
  needs: { command: string; pkg: string }[];
  run: (source: string, copy: string) => Promise<ToolRun>;
}

/** socat's buffer: 1 MiB reads and writes instead of its default 8 KiB. */
const SOCAT_BUFFER_BYTES = 1024 * 1024;

export const REFERENCE_TOOLS: ReferenceTool[] = [
  {
    name: `socat -u -b ${SOCAT_BUFFER_BYTES}`,
    needs: [{ command: 'socat', pkg: 'socat' }],
    run: async (source, copy) => {
      const port = await freePort();
      const buffer = ['-u', '-b', String(SOCAT_BUFFER_BYTES)];
      const receiver = startTimed([
        'socat',
        ...buffer,
        `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`,
        `CREATE:${copy}`,
      ]);
      await listening(port);
      return timedCopy(copy, receiver, () =>
        startTimed(['socat', ...buffer, `FILE:${source}`, `TCP:127.0.0.1:${port}`]),
      );
    },
  },
  {
    name: 'nc (netcat-openbsd)',
    needs: [{ command: 'nc', pkg: 'netcat-openbsd' }],
    run: async (source, copy) => {
      const port = await freePort();
      const receiver = startTimed(['nc', '-l', '127.0.0.1', String(port)], { stdout: copy });
      await listening(port);
      return timedCopy(copy, receiver, () =>
        startTimed(['nc', '-N', '127.0.0.1', String(port)], { stdin: source }),
      );
    },
  },
  {
    name: 'python3 http.server + curl',
    needs: [
      { command: 'curl', pkg: 'curl' },
      { command: 'python3', pkg: 'python3' },
    ],
    run: async (source, copy) => {
      const port = await freePort();
      const server = startTimed([
        'python3',
        '-m',
        'http.server',
        String(port),
        '--bind',
        '127.0.0.1',
        '--directory',
        path.dirname(source),
      ]);
      try {
        await listening(port);
        const python = await deepestChild(server.child.pid as number);
        const cpuBefore = await cpuSecondsOf(python);
        const run = await timedCopy(copy, undefined, () =>
          startTimed(['curl', '-s', '-o', copy, `http://127.0.0.1:${port}/${path.basename(source)}`]),
        );
        // The server lives on between requests: its share is what this request cost it.
        run.sender = {
          cpuSeconds: (await cpuSecondsOf(python)) - cpuBefore,
          peakRss: await peakRssOf(python),
        };
        return run;
      } finally {
        stopGroup(server.child);
        await server.done;
      }
    },
  },
];

/**
 * Times one copy: starts the sending side (`start`), waits for it and for `receiver` (when the
 * receiver is a separate listening process) to exit, then fdatasyncs `copy`.
 */
async function timedCopy(
  copy: string,
  receiver: ReturnType<typeof startTimed> | undefined,
  start: () => ReturnType<typeof startTimed>,
): Promise<ToolRun> {
  const started = performance.now();
  const client = start();
  const [first, second] = await Promise.all([client.done, receiver?.done]);
  const pageCacheSeconds = (performance.now() - started) / 1000;
  const handle = await fs.open(copy, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
  const durableSeconds = (performance.now() - started) / 1000;
  for (const finished of [first, second]) {
    if (finished && finished.code !== 0)
      throw new Error(`a reference tool exited with ${finished.code}: ${finished.stderr.trim()}`);
  }
  // With a listening receiver the client sends; without one (curl) the client receives.
  const usage = (finished: Finished): Usage => ({
    peakRss: finished.peakRss,
    cpuSeconds: finished.cpuSeconds,
  });
  return second
    ? { pageCacheSeconds, durableSeconds, sender: usage(first), receiver: usage(second) }
    : { pageCacheSeconds, durableSeconds, sender: { peakRss: 0, cpuSeconds: 0 }, receiver: usage(first) };
}
