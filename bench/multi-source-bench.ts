/**
 * `npm run bench -- multi`: what several sources bring. Three peers share one file; a fresh
 * downloader fetches it from one of them (the course's DOWNLOAD ip port) and from all three
 * (DOWNLOAD with no address), alternating. Twice: uncapped (loopback, where one source already
 * fills the machine: three must be no slower) and capped at 100 MB/s each (--max-upload-rate, as
 * three machines on a 1 Gb/s LAN: three must be at least 2.5x one).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, sha256File, writeRandomFile } from '../test/helpers/files.ts';
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
  const expected = await writeRandomFile(path.join(root, 'a', 'movie.mkv'), size);
  await fs.link(path.join(root, 'a', 'movie.mkv'), path.join(root, 'b', 'movie.mkv'));
  await fs.link(path.join(root, 'a', 'movie.mkv'), path.join(root, 'c', 'movie.mkv'));
  const copy = path.join(root, 'dst', 'movie.mkv');
  const lines: string[] = [];
  for (const rate of [undefined, '100MB']) {
    const rig = await NapshareRig.start(root);
    const uploaders = [];
    for (const folder of ['a', 'b', 'c']) uploaders.push(await rig.peer(folder, rate));
    const label = rate ? `capped at ${rate}/s each` : 'uncapped';
    log(`${label}: warm-up (each uploader hashes the file once)...`);
    await rig.download(await rig.peer('dst'), 'movie.mkv', 'all', uploaders);
    await fs.rm(copy);
    const one: number[] = [];
    const all: number[] = [];
    for (let round = 0; round < runs; round++) {
      const pair: ['first' | 'all', number[]][] = [
        ['first', one],
        ['all', all],
      ];
      for (const [from, samples] of round % 2 === 0 ? pair : pair.reverse()) {
        await flushDisks();
        const downloader = await rig.peer('dst');
        const { seconds } = await rig.download(
          downloader,
          'movie.mkv',
          from === 'all' ? 'all' : (uploaders[0] as (typeof uploaders)[number]),
          uploaders,
        );
        const actual = await sha256File(copy);
        if (actual !== expected) throw new Error(`multi-source copy has SHA-256 ${actual}, not ${expected}`);
        await fs.rm(copy);
        samples.push(size / MB / seconds);
        log(
          `${label} round ${round + 1}/${runs} ${from === 'first' ? 'one source' : 'three sources'}: ${(size / MB / seconds).toFixed(0)} MB/s`,
        );
      }
    }
    await rig.stop(uploaders);
    const ratio = median(all) / median(one);
    lines.push(
      `Multi-source: ${(size / MiB).toFixed(0)} MiB, uploaders ${label}, ${runs} alternating rounds, a fresh downloader each`,
      table(
        ['download', 'median MB/s', 'min-max', 'samples'],
        [
          [
            'one source (DOWNLOAD ip port)',
            median(one).toFixed(0),
            range(one),
            one.map((x) => x.toFixed(0)).join(' '),
          ],
          [
            'three sources (DOWNLOAD)',
            median(all).toFixed(0),
            range(all),
            all.map((x) => x.toFixed(0)).join(' '),
          ],
        ],
      ),
      `three sources / one source: ${ratio.toFixed(2)}x (target ${rate ? '>= 2.5x' : '>= 1.0x'})`,
      '',
    );
  }
  await fs.rm(root, { recursive: true, force: true });
  return lines.join('\n').trimEnd();
}
