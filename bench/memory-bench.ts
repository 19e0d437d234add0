/**
 * `npm run bench -- memory`: peak RSS of the uploading and the downloading peer (fresh processes:
 * the uploader has never hashed the file) for a 1 GiB random file and an 8 GiB sparse file. Flat
 * memory means the same peaks for both sizes.
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
    const rig = await NapshareRig.start(root);
    const downloader = await rig.peer('dst');
    const uploader = await rig.peer('src');
    const sample = await rig.download(downloader, 'file.bin', uploader, [uploader], true);
    await rig.stop([uploader]);
    await fs.rm(root, { recursive: true, force: true });
    const up = sample.uploaders[0] as (typeof sample.uploaders)[number];
    rows.push([
      label,
      `${(up.peakRss / MiB).toFixed(0)} MiB`,
      `${(sample.downloader.peakRss / MiB).toFixed(0)} MiB`,
      `${(size / MB / sample.seconds).toFixed(0)} MB/s`,
    ]);
    log(`${label}: done`);
  }
  return [
    'Memory: peak RSS of fresh peer processes for one download (a cold uploader: it hashes the file too)',
    table(['file', 'uploader peak RSS', 'downloader peak RSS', 'speed'], rows),
    'Target: at most 100 MiB each, the same for both files.',
  ].join('\n');
}
