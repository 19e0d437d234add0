/**
 * `npm run bench [-- transfer|multi|memory ...] [--runs N] [--size BYTES]`: benchmarks that print
 * tables, napshare side by side with reference tools measured in the same run. Progress on stderr,
 * results on stdout. See docs/performance.md for what the numbers mean and what was tried.
 */
import { parseArgs } from 'node:util';
import { parseByteSize } from '../shared/units.ts';
import { killAll } from '../test/helpers/cli.ts';
import { removeTempDirs } from '../test/helpers/files.ts';
import { indexBench } from './index-bench.ts';
import { indexStoreBench } from './index-store-bench.ts';
import { indexVersionsBench } from './index-versions.ts';
import { memoryBench } from './memory-bench.ts';
import { multiSourceBench } from './multi-source-bench.ts';
import { transferBench } from './transfer-bench.ts';

const BENCHES = ['transfer', 'multi', 'memory', 'index'] as const;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: {
      runs: { type: 'string' },
      size: { type: 'string' },
      // index: the population, the seconds of each SEARCH run, a folder for CPU profiles.
      peers: { type: 'string', default: '10000' },
      files: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '5' },
      profile: { type: 'string' },
      // index --store redis: 1, 2 and 4 servers on one redis-server beside the in-memory one.
      store: { type: 'string' },
      // index --versions DIR,DIR: the servers of those checkouts, alternating (index-versions.ts).
      versions: { type: 'string' },
    },
    allowPositionals: true,
  });
  const chosen = positionals.length > 0 ? positionals : [...BENCHES];
  for (const name of chosen) {
    if (!(BENCHES as readonly string[]).includes(name))
      throw new Error(`unknown benchmark ${name}; choose from ${BENCHES.join(', ')}`);
  }
  // Rounds: 5 for the transfer benchmarks, 3 for the index one (each round runs 6 rows).
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  for (const name of chosen) {
    let report: string;
    if (name === 'transfer') {
      report = await transferBench({
        runs: runs ?? 5,
        size: values.size ? parseByteSize(values.size) : 2 * 1024 ** 3,
        log,
      });
    } else if (name === 'multi') {
      report = await multiSourceBench({
        runs: runs ?? 5,
        size: values.size ? parseByteSize(values.size) : 512 * 1024 ** 2,
        log,
      });
    } else if (name === 'index' && values.store !== undefined) {
      if (values.store !== 'redis') throw new Error(`--store takes redis, not ${values.store}`);
      report = await indexStoreBench({
        runs: runs ?? 3,
        peers: Number(values.peers),
        filesPerPeer: Number(values.files),
        seconds: Number(values.seconds),
        log,
      });
    } else if (name === 'index' && values.versions !== undefined) {
      report = await indexVersionsBench({
        runs: runs ?? 2,
        peers: Number(values.peers),
        filesPerPeer: Number(values.files),
        seconds: Number(values.seconds),
        versions: values.versions.split(','),
        log,
      });
    } else if (name === 'index') {
      report = await indexBench({
        runs: runs ?? 3,
        peers: Number(values.peers),
        filesPerPeer: Number(values.files),
        seconds: Number(values.seconds),
        profileDir: values.profile,
        log,
      });
    } else {
      report = await memoryBench({ log });
    }
    process.stdout.write(`\n${report}\n`);
  }
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await killAll();
    await removeTempDirs();
  });
