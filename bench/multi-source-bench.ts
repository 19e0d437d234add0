/**
 * `npm run bench -- multi`: what several sources bring. Three peers share one file, each capped at
 * 100 MB/s (--max-upload-rate), as three machines on a 1 Gb/s LAN would be; the downloader
 * fetches it from one of them (the course's DOWNLOAD) and from all three (DOWNLOAD with no
 * address), alternating. Target: all three at least 2.5x one.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, writeRandomFile } from '../test/helpers/files.ts';
import { NapshareRig } from './napshare-rig.ts';
import { flushDisks } from './processes.ts';
import { MB, MiB, median, range, table } from './stats.ts';

export async function multiSourceBench(options: {
  runs: number;
  size: number;
  log: (line: string) => void;
}): Promise<string> {
  const { runs, size, log } = options;
  const root = await makeTempDir('napshare-bench-');
  for (const dir of ['a', 'b', 'c', 'dst']) await fs.mkdir(path.join(root, dir));
  log(`writing a ${(size / MiB).toFixed(0)} MiB random file, shared by three peers...`);
  await writeRandomFile(path.join(root, 'a', 'movie.mkv'), size);
  await fs.link(path.join(root, 'a', 'movie.mkv'), path.join(root, 'b', 'movie.mkv'));
  await fs.link(path.join(root, 'a', 'movie.mkv'), path.join(root, 'c', 'movie.mkv'));
  const rig = await NapshareRig.start(
    root,
    ['a', 'b', 'c'].map((folder) => ({ folder, rate: '100MB' })),
    'dst',
  );
  log('warm-up (each uploader hashes the file once)...');
  await rig.download('movie.mkv', 'all');
  const one: number[] = [];
  const all: number[] = [];
  for (let round = 0; round < runs; round++) {
    const pair: ['first' | 'all', number[]][] = [
      ['first', one],
      ['all', all],
    ];
    for (const [from, samples] of round % 2 === 0 ? pair : pair.reverse()) {
      await flushDisks();
      const seconds = await rig.download('movie.mkv', from);
      samples.push(size / MB / seconds);
      log(
        `round ${round + 1}/${runs} ${from === 'first' ? 'one source' : 'three sources'}: ${(size / MB / seconds).toFixed(0)} MB/s`,
      );
    }
  }
  await rig.stop();
  await fs.rm(root, { recursive: true, force: true });
  const ratio = median(all) / median(one);
  return [
    `Multi-source: ${(size / MiB).toFixed(0)} MiB, uploaders capped at 100 MB/s each, ${runs} alternating rounds`,
    table(
      ['download', 'median MB/s', 'min-max'],
      [
        ['one source (DOWNLOAD ip port)', median(one).toFixed(0), range(one)],
        ['three sources (DOWNLOAD)', median(all).toFixed(0), range(all)],
      ],
    ),
    `three sources / one source: ${ratio.toFixed(2)}x (target >= 2.5x)`,
  ].join('\n');
}
