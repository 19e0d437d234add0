/**
 * `npm run bench [-- transfer|multi|memory ...] [--runs N] [--size BYTES]`: benchmarks that print
 * tables, napshare side by side with reference tools measured in the same run. Progress on stderr,
 * results on stdout. See docs/performance.md for what the numbers mean and what was tried.
 */
import { parseArgs } from 'node:util';
import { parseByteSize } from '../shared/units.ts';
import { killAll } from '../test/helpers/cli.ts';
import { removeTempDirs } from '../test/helpers/files.ts';
import { memoryBench } from './memory-bench.ts';
import { multiSourceBench } from './multi-source-bench.ts';
import { transferBench } from './transfer-bench.ts';

const BENCHES = ['transfer', 'multi', 'memory'] as const;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: { runs: { type: 'string', default: '5' }, size: { type: 'string' } },
    allowPositionals: true,
  });
  const chosen = positionals.length > 0 ? positionals : [...BENCHES];
  for (const name of chosen) {
    if (!(BENCHES as readonly string[]).includes(name))
      throw new Error(`unknown benchmark ${name}; choose from ${BENCHES.join(', ')}`);
  }
  const runs = Number(values.runs);
  const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  for (const name of chosen) {
    let report: string;
    if (name === 'transfer') {
      report = await transferBench({
        runs,
        size: values.size ? parseByteSize(values.size) : 2 * 1024 ** 3,
        log,
      });
    } else if (name === 'multi') {
      report = await multiSourceBench({
        runs,
        size: values.size ? parseByteSize(values.size) : 512 * 1024 ** 2,
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
