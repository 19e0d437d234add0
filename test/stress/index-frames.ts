/**
 * Random and mutated frames against the real index server process, from attackers on their own
 * loopback addresses, while three well-behaved peers on 127.0.0.1 check every answer they get
 * (index-good-peers.ts). Afterwards the server is alive, lists exactly what it should, wrote only
 * printable text on its console, and its memory is back under its budget.
 */
import { consoleProblem } from '../helpers/forbidden-text.ts';
import { withDeadline } from '../helpers/wait.ts';
import type { StressContext } from './context.ts';
import { type FuzzTally, fuzzIndex } from './index-fuzz-client.ts';
import { GoodPeers } from './index-good-peers.ts';
import { memoryMiB } from './processes.ts';
import { count } from './report.ts';

/** Attacker connections at once, over these source addresses (well under the per-address cap). */
const ATTACKERS = 8;
const ATTACKER_ADDRESSES = ['127.0.0.66', '127.0.0.67', '127.0.0.68', '127.0.0.69'];
/**
 * Resident memory the index server may keep after the attack: its input budget (64 MiB of
 * unfinished lines), what the attackers' entries cost (well under 10 MiB) and a Node process's
 * own 100-150 MiB with the heap the attack grew (V8 keeps it a while).
 */
export const INDEX_MEMORY_BUDGET_MIB = 400;

export async function indexFrames(ctx: StressContext): Promise<void> {
  const frames = ctx.profile.indexFrames;
  const row = ctx.row(
    `index server: ${count(frames)} random and mutated frames, 3 peers checking every answer`,
  );
  const server = ctx.cli('server', ['--host', '127.0.0.1', '--port', '0'], 'the index server');
  const port = Number(/:(\d+)$/.exec(await server.waitFor(/^listening on 127\.0\.0\.1:\d+$/, 'stderr'))?.[1]);
  const tag = ctx.seed.toString(36);
  const good = await GoodPeers.join(port, tag, 20_001, row);
  ctx.defer(() => good.close());
  const before = await memoryMiB(server.pid);

  const tally: FuzzTally = { frames: 0, lines: 0, replies: 0, closedBy: new Map(), problems: [] };
  const started = performance.now();
  const checking = good.run(ctx.seed);
  const attackers = Array.from({ length: ATTACKERS }, (_, i) =>
    fuzzIndex(
      port,
      ATTACKER_ADDRESSES[i % ATTACKER_ADDRESSES.length] as string,
      ctx.seed + 1000 + i,
      Math.ceil(frames / ATTACKERS),
      tally,
    ),
  );
  const progress = setInterval(
    () => ctx.log(`${count(tally.frames)} frames, ${count(good.answers)} answers checked`),
    10_000,
  );
  try {
    await withDeadline(
      Promise.all(attackers),
      ctx.profile.groupTimeoutMs,
      `${count(frames)} frames to be answered`,
    );
  } finally {
    clearInterval(progress);
    good.stop();
  }
  await withDeadline(checking, 60_000, 'the well-behaved peers to finish their last request');
  const seconds = (performance.now() - started) / 1000;
  const peak = await memoryMiB(server.pid);

  row.tries = tally.frames;
  for (const problem of tally.problems) row.wrongAnswer(`to an attacker: ${problem}`);
  await good.checkAll();
  const stdout = consoleProblem(server.cli.bytes('stdout'));
  row.check(stdout === null, () => `the server's console (stdout) ${stdout}`);
  const stderr = consoleProblem(server.cli.bytes('stderr'));
  row.check(stderr === null, () => `the server's stderr ${stderr}`);
  const after = await memoryMiB(server.pid);
  row.check(
    after.rss < INDEX_MEMORY_BUDGET_MIB,
    () => `the server holds ${after.rss.toFixed(0)} MiB after the attack`,
  );
  if (server.alive && row.wrong === 0) row.survived = tally.frames;

  const closes = [...tally.closedBy].map(([code, times]) => `${times} ${code}`).join(', ');
  row.note(
    `${count(tally.lines)} lines in ${seconds.toFixed(0)} s, ${count(tally.replies)} attacker replies checked`,
  );
  row.note(`${count(good.answers)} answers to the 3 peers checked, p99 ${good.p99().toFixed(1)} ms`);
  if (closes) row.note(`attackers cut: ${closes}`);
  row.note(
    `RSS ${before.rss.toFixed(0)} -> peak ${peak.peak.toFixed(0)} -> ${after.rss.toFixed(0)} MiB (budget ${INDEX_MEMORY_BUDGET_MIB})`,
  );
  await server.stop();
}
