/**
 * Gives a `.part` its final name (peer/transfer/final-name.ts) in a process of its own, as on a
 * file system without hard links (the link fails with EPERM, as on FAT32), so that a test can
 * trace its system calls. Prints `claimed` once the name is taken.
 * Usage: claim-name.ts PART_PATH FINAL_PATH
 */
import { claimFinalName } from '../../peer/transfer/final-name.ts';

const [partPath, finalPath] = process.argv.slice(2);
if (!partPath || !finalPath) throw new Error('usage: claim-name.ts PART_PATH FINAL_PATH');
await claimFinalName(partPath, finalPath, {
  verified: true,
  link: () => Promise.reject(Object.assign(new Error('operation not permitted, link'), { code: 'EPERM' })),
});
process.stdout.write('claimed\n');
