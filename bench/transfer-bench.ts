/**
 * `npm run bench -- transfer`: one random file (2 GiB by default) over 127.0.0.1, file to file,
 * by napshare and by reference tools, alternating (A B C D E, then E D C B A, ...) so the
 * machine's drift hits every one alike. Every run uses fresh processes — napshare's downloader
 * and cold uploader, each tool's sender and receiver — and every copy is checked by SHA-256.
 * Prints medians, the fastest run, peak RSS and CPU seconds per GB of each side, napshare's
 * ratios, and every raw sample.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeTempDir, sha256File, writeRandomFile } from '../test/helpers/files.ts';
import { NapshareRig } from './napshare-rig.ts';
import { ensureDebianTools, flushDisks, type Usage } from './processes.ts';
import { REFERENCE_TOOLS } from './reference-tools.ts';
import { formatRow, type Row, rowTable } from './stats.ts';

interface Contender {
  /** The rows one run of it fills, in order. */
  rows: Row[];
  run: () => Promise<{ seconds: number; sender: Usage; receiver: Usage }[]>;
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
  log(`writing a ${(size / 1024 ** 2).toFixed(0)} MiB random file...`);
  const expected = await writeRandomFile(source, size);
  const checkCopy = async (copy: string, who: string): Promise<void> => {
    const actual = await sha256File(copy);
    if (actual !== expected) throw new Error(`${who}: the copy's SHA-256 is ${actual}, not ${expected}`);
    await fs.rm(copy);
  };
  const loadBefore = os.loadavg();

  const rig = await NapshareRig.start(root);
  const warm = await rig.peer('src');
  const napshareCopy = path.join(rig.folder('dst'), 'big.bin');
  log('warm-up: the long-lived uploader hashes the file on its first download and keeps the hashes');
  await rig.download(await rig.peer('dst'), 'big.bin', warm, [warm]);
  await checkCopy(napshareCopy, 'napshare warm-up');

  const napshareRun = async (cold: boolean) => {
    const downloader = await rig.peer('dst');
    // A cold uploader JOINs right before the DOWNLOAD: nothing of its file is hashed yet.
    const uploader = cold ? await rig.peer('src') : warm;
    const sample = await rig.download(downloader, 'big.bin', uploader, [uploader], cold);
    if (cold) await uploader.cli.end();
    await checkCopy(napshareCopy, 'napshare');
    return [{ seconds: sample.seconds, sender: sample.uploaders[0] as Usage, receiver: sample.downloader }];
  };
  const contenders: Contender[] = [
    { rows: [newRow('napshare, warm uploader (verified, durable)')], run: () => napshareRun(false) },
    { rows: [newRow('napshare, cold uploader (verified, durable)')], run: () => napshareRun(true) },
  ];
  const skipped: string[] = [];
  const pageCacheRows: Row[] = [];
  for (const tool of REFERENCE_TOOLS) {
    const present = await ensureDebianTools(tool.needs, log);
    if (tool.needs.some(({ command }) => !present.has(command))) {
      skipped.push(`${tool.name}: not installed and could not be installed`);
      continue;
    }
    const durable = newRow(`${tool.name} + fdatasync of its copy`);
    const pageCache = newRow(`${tool.name} (page cache only)`);
    pageCacheRows.push(pageCache);
    const copy = path.join(root, 'ref', 'big.bin');
    contenders.push({
      rows: [durable, pageCache],
      run: async () => {
        const run = await tool.run(source, copy);
        await checkCopy(copy, tool.name);
        const sides = { sender: run.sender, receiver: run.receiver };
        return [
          { seconds: run.durableSeconds, ...sides },
          { seconds: run.pageCacheSeconds, ...sides },
        ];
      },
    });
  }

  for (let round = 0; round < runs; round++) {
    for (const contender of round % 2 === 0 ? contenders : [...contenders].reverse()) {
      // Untimed: no run pays for the writeback of the previous run's copy.
      await flushDisks();
      const samples = await contender.run();
      contender.rows.forEach((row, i) => {
        row.samples.push(samples[i] as (typeof row.samples)[number]);
      });
      const first = contender.rows[0] as Row;
      log(
        `round ${round + 1}/${runs} ${first.name}: ${((size / 1e6) * (1 / (samples[0]?.seconds ?? 1))).toFixed(0)} MB/s`,
      );
    }
  }
  await rig.stop([warm]);
  await fs.rm(root, { recursive: true, force: true });

  const rows = contenders.flatMap((contender) => contender.rows);
  const [napWarm, napCold] = rows as [Row, Row];
  const durableRows = contenders.slice(2).map((contender) => contender.rows[0] as Row);
  const ratio = (a: Row, b: Row) => {
    const x = formatRow(a, size);
    const y = formatRow(b, size);
    return `median ${(x.median / y.median).toFixed(2)}x, fastest ${(x.fastest / y.fastest).toFixed(2)}x`;
  };
  const load = (avg: number[]) => avg.map((value) => value.toFixed(2)).join(' ');
  return [
    `Transfer: ${(size / 1024 ** 2).toFixed(0)} MiB random file over 127.0.0.1, file to file, ${runs} alternating rounds, fresh processes every run, every copy checked by SHA-256`,
    rowTable(rows, size),
    '',
    ...durableRows.map((row) => `${napWarm.name} / ${row.name}: ${ratio(napWarm, row)}`),
    `cold / warm uploader: ${ratio(napCold, napWarm)}`,
    '',
    'napshare: SHA-256 of every piece checked before it counts, the whole file flushed to disk',
    `before it takes its name; times from the DOWNLOAD line to the "Arquivo ... baixado" line of a fresh peer.`,
    'The tools verify nothing; "+ fdatasync" rows include an fdatasync of the copy after the tool exits.',
    `CPU: user + system seconds of each process (all threads) per GB moved; ${pageCacheRows.length > 0 ? 'the page-cache rows are the same runs as the fdatasync rows.' : ''}`,
    `load average (1, 5, 15 min): ${load(loadBefore)} before, ${load(os.loadavg())} after`,
    '',
    'raw samples, MB/s in run order:',
    ...rows.map(
      (row) => `  ${row.name}: ${row.samples.map((s) => (size / 1e6 / s.seconds).toFixed(0)).join(' ')}`,
    ),
    ...skipped.map((line) => `skipped: ${line}`),
  ].join('\n');
}

function newRow(name: string): Row {
  return { name, samples: [] };
}
