/**
 * `npm run bench -- transfer`: one random file (2 GiB by default) over loopback, file to file, by
 * napshare and by reference tools measured in the same run, alternating (A B C D, then D C B A,
 * ...) so the machine's drift hits every tool alike. Prints median MB/s, min-max, each process's
 * peak RSS and napshare's ratio to each tool.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, writeRandomFile } from '../test/helpers/files.ts';
import { NapshareRig } from './napshare-rig.ts';
import {
  ensureDebianTools,
  flushDisks,
  freePort,
  listening,
  peakRssOf,
  startTimed,
  stopGroup,
} from './processes.ts';
import { MB, MiB, median, range, table } from './stats.ts';

interface Sample {
  seconds: number;
  senderRss?: number;
  receiverRss?: number;
}

interface Contender {
  name: string;
  note?: string;
  run: () => Promise<Sample>;
  samples: Sample[];
  /** Peak RSS known only at the end (long-lived processes). */
  finalRss?: () => Promise<{ sender: number; receiver: number }>;
}

export async function transferBench(options: {
  runs: number;
  size: number;
  log: (line: string) => void;
}): Promise<string> {
  const { runs, size, log } = options;
  const root = await makeTempDir('napshare-bench-');
  for (const dir of ['src', 'dst', 'ref']) await fs.mkdir(path.join(root, dir));
  const source = path.join(root, 'src', 'big.bin');
  log(`writing a ${(size / MiB).toFixed(0)} MiB random file...`);
  await writeRandomFile(source, size);
  const copy = path.join(root, 'ref', 'big.bin');
  const tools = await ensureDebianTools(
    [
      { command: 'socat', pkg: 'socat' },
      { command: 'nc', pkg: 'netcat-openbsd' },
      { command: 'curl', pkg: 'curl' },
      { command: 'python3', pkg: 'python3' },
    ],
    log,
  );
  if (!(await fs.stat('/usr/bin/time').catch(() => null)))
    await ensureDebianTools([{ command: '/usr/bin/time', pkg: 'time' }], log);

  const rig = await NapshareRig.start(root, [{ folder: 'src' }], 'dst');
  log('napshare warm-up run (the uploader hashes the file on its first INFO, then caches it)...');
  await rig.download('big.bin', 'first');

  const checkCopy = async (): Promise<void> => {
    const stat = await fs.stat(copy);
    if (stat.size !== size) throw new Error(`reference copy has ${stat.size} bytes, not ${size}`);
    await fs.rm(copy);
  };
  const contenders: Contender[] = [
    {
      name: 'napshare',
      note: 'verified (SHA-256 per piece), flushed to disk before the rename',
      run: async () => ({ seconds: await rig.download('big.bin', 'first') }),
      samples: [],
      finalRss: async () => {
        const rss = await rig.peakRss();
        return { sender: rss.uploaders[0] as number, receiver: rss.downloader };
      },
    },
  ];
  const skipped: string[] = [];
  if (tools.has('socat')) {
    contenders.push({
      name: 'socat -u -b 1048576',
      run: async () => {
        const port = await freePort();
        const receiver = startTimed([
          'socat',
          '-u',
          '-b',
          '1048576',
          `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`,
          `CREATE:${copy}`,
        ]);
        await listening(port);
        const started = performance.now();
        const sender = startTimed([
          'socat',
          '-u',
          '-b',
          '1048576',
          `FILE:${source}`,
          `TCP:127.0.0.1:${port}`,
        ]);
        const [s, r] = await Promise.all([sender.done, receiver.done]);
        const seconds = (performance.now() - started) / 1000;
        await checkCopy();
        return { seconds, senderRss: s.peakRss, receiverRss: r.peakRss };
      },
      samples: [],
    });
  } else skipped.push('socat: not installed and could not be installed');
  if (tools.has('nc')) {
    contenders.push({
      name: 'nc (netcat-openbsd)',
      run: async () => {
        const port = await freePort();
        const receiver = startTimed(['nc', '-l', '127.0.0.1', String(port)], { stdout: copy });
        await listening(port);
        const started = performance.now();
        const sender = startTimed(['nc', '-N', '127.0.0.1', String(port)], { stdin: source });
        const [s, r] = await Promise.all([sender.done, receiver.done]);
        const seconds = (performance.now() - started) / 1000;
        await checkCopy();
        return { seconds, senderRss: s.peakRss, receiverRss: r.peakRss };
      },
      samples: [],
    });
  } else skipped.push('nc: not installed and could not be installed');
  let httpServer: ReturnType<typeof startTimed> | undefined;
  if (tools.has('curl') && tools.has('python3')) {
    const port = await freePort();
    httpServer = startTimed([
      'python3',
      '-m',
      'http.server',
      String(port),
      '--bind',
      '127.0.0.1',
      '--directory',
      path.join(root, 'src'),
    ]);
    await listening(port);
    const serverPid = httpServer.child.pid as number;
    contenders.push({
      name: 'python3 http.server + curl -o',
      run: async () => {
        const started = performance.now();
        const curl = startTimed(['curl', '-s', '-o', copy, `http://127.0.0.1:${port}/big.bin`]);
        const r = await curl.done;
        const seconds = (performance.now() - started) / 1000;
        await checkCopy();
        return { seconds, receiverRss: r.peakRss };
      },
      samples: [],
      // The server is one long-lived process: its peak over all runs; bash -> time -> python.
      finalRss: async () => ({ sender: await deepestPeak(serverPid), receiver: 0 }),
    });
  } else skipped.push('http.server + curl: python3 or curl missing and could not be installed');

  for (let round = 0; round < runs; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const contender of order) {
      await flushDisks();
      const sample = await contender.run();
      contender.samples.push(sample);
      log(`round ${round + 1}/${runs} ${contender.name}: ${(size / MB / sample.seconds).toFixed(0)} MB/s`);
    }
  }

  const finals = new Map<Contender, { sender: number; receiver: number }>();
  for (const contender of contenders)
    if (contender.finalRss) finals.set(contender, await contender.finalRss());
  if (httpServer) stopGroup(httpServer.child);
  await rig.stop();
  await fs.rm(root, { recursive: true, force: true });

  const rate = (sample: Sample) => size / MB / sample.seconds;
  const napshare = median((contenders[0] as Contender).samples.map(rate));
  const rss = (bytes: number | undefined) => (bytes ? `${(bytes / MiB).toFixed(0)} MiB` : '-');
  const rows = contenders.map((contender) => {
    const rates = contender.samples.map(rate);
    const final = finals.get(contender);
    const senderRss = final?.sender || Math.max(...contender.samples.map((s) => s.senderRss ?? 0));
    const receiverRss = final?.receiver || Math.max(...contender.samples.map((s) => s.receiverRss ?? 0));
    return [
      contender.name,
      median(rates).toFixed(0),
      range(rates),
      rss(senderRss),
      rss(receiverRss),
      contender === contenders[0] ? '1.00' : (napshare / median(rates)).toFixed(2),
    ];
  });
  const lines = [
    `Transfer: ${(size / MiB).toFixed(0)} MiB random file over 127.0.0.1, file to file, ${runs} alternating rounds`,
    table(
      ['tool', 'median MB/s', 'min-max', 'peak RSS sender', 'peak RSS receiver', 'napshare / tool'],
      rows,
    ),
    `napshare: ${(contenders[0] as Contender).note}; the reference tools neither verify nor flush.`,
    ...skipped.map((line) => `skipped: ${line}`),
  ];
  return lines.join('\n');
}

/** Peak RSS of a process started as bash -> time -> program: the program is the deepest child. */
async function deepestPeak(pid: number): Promise<number> {
  let current = pid;
  for (;;) {
    const children = (await fs.readFile(`/proc/${current}/task/${current}/children`, 'utf8').catch(() => ''))
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    if (children.length === 0) return peakRssOf(current);
    current = Number(children[0]);
  }
}
