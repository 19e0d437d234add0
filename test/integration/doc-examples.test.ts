/**
 * Every shell example of the README and docs/ runs as written, in order, with real processes
 * (test/helpers/doc-runner.ts): the commands of the page's terminal one after the other, each
 * `# terminal N` as a process left running until Ctrl+C at the end of its section.
 *
 * They run in a sandbox of their own (unshare, as root): a network namespace with only its
 * loopback, so the pages' fixed ports (1099, 6881, 4200 ...) and the LAN group never meet another
 * test's or another program's, and its multicast stays inside; a /tmp of its own (the pages
 * write under /tmp, as a reader does), removed afterwards; and the checkout mounted read-only, so
 * an example that writes into it fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';
import { parseExamples } from '../helpers/doc-examples.ts';
import { NOT_RUN, type StepResult } from '../helpers/doc-runner.ts';
import { makeTempDir, removeTempDirs } from '../helpers/files.ts';
import { withDeadline } from '../helpers/wait.ts';

/** The pages whose examples are run, with how long all of a page's examples may take. */
const PAGES: Record<string, number> = {
  // The demo downloads 1.1 GB; the course run 50 MB.
  'README.md': 400_000,
  'docs/course.md': 180_000,
  'docs/reference.md': 180_000,
  'docs/web.md': 120_000,
  'docs/chat.md': 180_000,
  'docs/lan.md': 180_000,
  'docs/dht.md': 180_000,
  'docs/gossip.md': 120_000,
  'docs/protocol.md': 60_000,
};
/** Pages with shell examples that are not run here, and why. */
const PAGES_NOT_RUN: Record<string, string> = {
  'docs/testing.md': 'its commands run the test suite itself',
  'docs/performance.md': 'the benchmarks take minutes and install reference tools with apt',
};

// A checkout under /tmp (a CI clone) would be hidden by the sandbox's own /tmp: it is bound into
// that /tmp first, at the same path, then carried along (--rbind).
const SANDBOX = `set -e
ip link set lo up
case "$2" in /tmp/*) mkdir -p "$1/\${2#/tmp/}"; mount --bind "$2" "$1/\${2#/tmp/}" ;; esac
mount --rbind "$1" /tmp
mount --bind "$2" "$2"
mount -o remount,ro,bind "$2"
shift 2
exec "$@"`;

function sandboxWorks(): boolean {
  const probe = spawnSync('unshare', ['--mount', '--net', 'sh', '-c', 'ip link set lo up'], {
    stdio: 'ignore',
  });
  return probe.status === 0;
}

const markdownPages = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
  cwd: ROOT,
  encoding: 'utf8',
})
  .stdout.split('\n')
  .filter((file) => file !== '' && !file.startsWith('node_modules/'));

async function runInSandbox(
  page: string,
  timeoutMs: number,
): Promise<{ results: StepResult[]; log: string }> {
  const scratch = await makeTempDir('napshare-doc-examples-');
  const args = [
    '--mount',
    '--net',
    'bash',
    '-c',
    SANDBOX,
    'sandbox',
    scratch,
    ROOT,
    process.execPath,
    '--import',
    'tsx',
    path.join(ROOT, 'test/helpers/doc-runner-main.ts'),
    '/tmp/doc-report.json',
    page,
  ];
  const child = spawn('unshare', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  child.stdout.on('data', (chunk) => {
    log += chunk;
  });
  child.stderr.on('data', (chunk) => {
    log += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    await withDeadline(exited, timeoutMs, `the examples of ${page} to run (so far:\n${log})`);
  } catch (error) {
    process.kill(-(child.pid as number), 'SIGKILL');
    throw error;
  }
  const report = path.join(scratch, 'doc-report.json');
  if (!fs.existsSync(report)) throw new Error(`the runner wrote no report:\n${log}`);
  return { results: JSON.parse(fs.readFileSync(report, 'utf8')) as StepResult[], log };
}

afterAll(removeTempDirs);

describe('the pages with shell examples', () => {
  it('are each run here, or said why not', () => {
    const withExamples = markdownPages.filter((page) =>
      parseExamples(fs.readFileSync(path.join(ROOT, page), 'utf8')).some(
        (section) => section.steps.length > 0,
      ),
    );
    expect(withExamples.sort()).toEqual([...Object.keys(PAGES), ...Object.keys(PAGES_NOT_RUN)].sort());
  });
});

describe.skipIf(!sandboxWorks())(
  'every example runs as written, in order (sandbox: unshare, as root)',
  () => {
    const skipped = new Set<RegExp>();

    it.each(Object.entries(PAGES))(
      '%s',
      async (page, timeoutMs) => {
        const { results, log } = await runInSandbox(page, timeoutMs);
        const failed = results.filter((result) => !result.ok);
        expect(failed, log).toEqual([]);
        expect(results.filter((result) => !result.skipped).length, log).toBeGreaterThan(0);
        for (const result of results) {
          const rule = NOT_RUN.find((candidate) => candidate.why === result.skipped);
          if (rule) skipped.add(rule.pattern);
        }
      },
      600_000,
    );

    it('leave out only the commands NOT_RUN names, each of which a page does give', () => {
      expect([...skipped].map(String).sort()).toEqual(NOT_RUN.map((rule) => String(rule.pattern)).sort());
    });
  },
);
