/** Peak memory of a running process, from Linux's own accounting: no sampling, nothing missed. */
import fs from 'node:fs/promises';

/** Peak resident set size (VmHWM of /proc/PID/status) of a running process, in bytes. */
export async function peakRssOf(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (kib === undefined) throw new Error(`/proc/${pid}/status has no VmHWM line`);
  return Number(kib) * 1024;
}
