/**
 * `npm run bench -- memory`: peak RSS of the uploading and the downloading peer (fresh processes)
 * for a 1 GiB random file and an 8 GiB sparse file. Flat memory means the same peaks for both.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, writeRandomFile } from '../test/helpers/files.ts';
import { NapshareRig } from './napshare-rig.ts';
import { MB, MiB, table } from './stats.ts';

export async function memoryBench(options: { log: (line: string) => void }): Promise<string> {
  const { log } = options;
  const rows: string[][] = [];
  for (const { label, size, sparse } of [
    { label: '1 GiB random', size: 1024 ** 3, sparse: false },
    { label: '8 GiB sparse', size: 8 * 1024 ** 3, sparse: true },
  ]) {
    const root = await makeTempDir('napshare-bench-');
    await fs.mkdir(path.join(root, 'src'));
    await fs.mkdir(path.join(root, 'dst'));
    const file = path.join(root, 'src', 'file.bin');
    log(`${label}: preparing...`);
    if (sparse) await fs.truncate(await fs.writeFile(file, '').then(() => file), size);
    else await writeRandomFile(file, size);
    const rig = await NapshareRig.start(root, [{ folder: 'src' }], 'dst');
    const seconds = await rig.download('file.bin', 'first');
    const rss = await rig.peakRss();
    await rig.stop();
    await fs.rm(root, { recursive: true, force: true });
    rows.push([
      label,
      `${((rss.uploaders[0] as number) / MiB) | 0} MiB`,
      `${(rss.downloader / MiB) | 0} MiB`,
      `${(size / MB / seconds).toFixed(0)} MB/s`,
    ]);
    log(`${label}: done`);
  }
  return [
    'Memory: peak RSS of fresh peer processes for one download (first one: includes hashing on the uploader)',
    table(['file', 'uploader peak RSS', 'downloader peak RSS', 'speed'], rows),
    'Target: at most 100 MiB each, the same for both files. An idle peer process (node + tsx) is about 77 MiB.',
  ].join('\n');
}
