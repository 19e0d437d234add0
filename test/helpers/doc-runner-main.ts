/**
 * `node --import tsx test/helpers/doc-runner-main.ts REPORT PAGE...`: runs the pages' examples
 * (test/helpers/doc-runner.ts), prints one line per step, writes the results to REPORT as JSON
 * and exits 1 if a step failed. Run inside test/integration/doc-examples.test.ts's sandbox.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runPage, type StepResult } from './doc-runner.ts';

const [report, ...pages] = process.argv.slice(2);
if (report === undefined || pages.length === 0) {
  process.stderr.write('usage: doc-runner-main.ts REPORT PAGE...\n');
  process.exit(2);
}
const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'doc-runner-'));
const results: StepResult[] = [];
for (const page of pages) {
  for (const result of await runPage(page, scratch)) {
    results.push(result);
    const state = result.skipped ? 'not run' : result.ok ? 'ok' : 'FAILED';
    const why = result.skipped ? ` (${result.skipped})` : '';
    process.stdout.write(
      `${state} ${result.page}:${result.line} ${result.what}${why} ${Math.round(result.ms)} ms\n`,
    );
    if (result.error) process.stdout.write(`${result.error}\n`);
  }
}
await fs.writeFile(report, JSON.stringify(results, null, 2));
process.exit(results.every((result) => result.ok) ? 0 : 1);
