/**
 * Takes a download's lock in a process of its own (peer/transfer/download-lock.ts), for tests of
 * the lock across processes. Prints `ready`, waits for a line on stdin (so that several processes
 * can be told to go at the same moment), takes the lock, prints `held` or `refused CODE`, keeps
 * the lock until stdin ends (or it is killed), then releases it and exits.
 * Usage: lock-holder.ts PART_PATH FILE
 */
import readline from 'node:readline';
import { DownloadLock } from '../../peer/transfer/download-lock.ts';
import { isNapError } from '../../shared/errors.ts';

const [partPath, file] = process.argv.slice(2);
if (!partPath || !file) throw new Error('usage: lock-holder.ts PART_PATH FILE');
const input = readline.createInterface({ input: process.stdin });
const closed = new Promise((resolve) => input.once('close', resolve));
process.stdout.write('ready\n');
await new Promise((resolve) => input.once('line', resolve));
try {
  const lock = await DownloadLock.acquire(partPath, file);
  process.stdout.write('held\n');
  await closed;
  await lock.release();
} catch (error) {
  process.stdout.write(`refused ${isNapError(error) ? error.code : String(error)}\n`);
}
input.close();
