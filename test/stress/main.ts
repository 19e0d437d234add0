/**
 * `npm run test:stress [-- --profile short|full] [--only GROUP,...]` (the profile: full unless
 * `--profile` or STRESS_PROFILE says short; see profile.ts): the attacks napshare's
 * servers and downloads must survive, replayed against real processes and sockets on 127.0.0.1,
 * ending with a table (attack, tries, survived, lost or wrong) on stdout and the line
 * `stress: N attacks, C crashes, W wrong answers, L lost files`. Exits 1 unless all three are 0.
 * Seeded: STRESS_SEED (default below) fixes every random choice of a run; it is printed.
 * Progress goes to stderr.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { killAll } from '../helpers/cli.ts';
import { removeTempDirs } from '../helpers/files.ts';
import { withDeadline } from '../helpers/wait.ts';
import {
  attackChatServer,
  attackControlSocket,
  attackFileServer,
  attackIndexServer,
  attackLanFileServer,
} from './connection-groups.ts';
import { groupSeed, StressContext } from './context.ts';
import { dhtKrpc } from './dht-krpc.ts';
import { changingFile, concurrentDownloads, overwriteRace } from './final-names.ts';
import { fullDisk } from './full-disk.ts';
import { floodedHonestUploader, hostileSources } from './hostile-sources.ts';
import { indexFrames } from './index-frames.ts';
import { restartIndex } from './index-restarts.ts';
import { killDownloaders, killUploaders } from './kills.ts';
import { chooseProfile } from './profile.ts';
import { finalLine, formatTable, type Row } from './report.ts';
import { attackWebServer } from './web-attacks.ts';

/** The seed of a run when STRESS_SEED is not given: a run replays the last one exactly. */
const DEFAULT_SEED = 20_261_201;

interface Group {
  id: string;
  run: (ctx: StressContext) => Promise<void>;
}

const GROUPS: Group[] = [
  { id: 'index-frames', run: indexFrames },
  { id: 'dht-krpc', run: dhtKrpc },
  { id: 'index-connections', run: attackIndexServer },
  { id: 'chat-connections', run: attackChatServer },
  { id: 'file-connections', run: attackFileServer },
  { id: 'lan-connections', run: attackLanFileServer },
  { id: 'control-connections', run: attackControlSocket },
  { id: 'web-connections', run: attackWebServer },
  { id: 'uploader-kills', run: killUploaders },
  { id: 'downloader-kills', run: killDownloaders },
  { id: 'index-restarts', run: restartIndex },
  { id: 'full-disk', run: fullDisk },
  { id: 'hostile-uploaders', run: hostileSources },
  { id: 'flooded-uploader', run: floodedHonestUploader },
  { id: 'overwrite-race', run: overwriteRace },
  { id: 'concurrent-downloads', run: concurrentDownloads },
  { id: 'changing-file', run: changingFile },
];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      `Usage: npm run test:stress -- [--profile short|full] [--only ${GROUPS.map((group) => group.id).join(',')}]\n` +
        'The full profile unless --profile or STRESS_PROFILE=short says otherwise.\n' +
        'STRESS_SEED=N replays a run with that seed.\n',
    );
    return 0;
  }
  const profile = chooseProfile(values.profile, process.env.STRESS_PROFILE);
  const only = values.only?.split(',');
  const unknown = only?.filter((id) => !GROUPS.some((group) => group.id === id)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown group ${unknown.join(', ')}`);
  const seed = Number(process.env.STRESS_SEED ?? DEFAULT_SEED);
  if (!Number.isSafeInteger(seed))
    throw new Error(`STRESS_SEED must be an integer, not ${process.env.STRESS_SEED}`);

  process.stdout.write(
    `napshare stress, profile ${profile.name}, seed ${seed} (STRESS_SEED=${seed} replays it), ${describeRun()}\n\n`,
  );
  const rows: Row[] = [];
  let running: StressContext | undefined;
  // A promise of an attack that fails unawaited is that attack's failure, counted on its row: the
  // run still ends with its table and last line.
  process.on('unhandledRejection', (error) => {
    const message = error instanceof Error ? error.message : String(error);
    const row = running?.current;
    if (!row) throw error;
    row.wrongAnswer(`unawaited failure: ${message}`);
  });
  for (const group of GROUPS) {
    if (only && !only.includes(group.id)) continue;
    const ctx = new StressContext(group.id, profile, groupSeed(seed, group.id));
    running = ctx;
    const started = performance.now();
    try {
      await withDeadline(group.run(ctx), profile.groupTimeoutMs, `the ${group.id} attacks to end`);
    } catch (error) {
      const row = ctx.current ?? ctx.row(group.id);
      const message = error instanceof Error ? error.message : String(error);
      // A crash already counted explains the failure; otherwise the attack did not get its answer.
      if (row.crashes === 0) row.wrongAnswer(`the attack failed: ${message}`);
      row.note(`failed: ${message}`);
    } finally {
      await ctx.close();
    }
    for (const row of ctx.rows) for (const detail of row.details) ctx.log(`${row.attack}: ${detail}`);
    ctx.log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    rows.push(...ctx.rows);
  }
  await killAll();
  await removeTempDirs();
  process.stdout.write(`${formatTable(rows).join('\n')}\n\n${finalLine(rows)}\n`);
  return rows.every((row) => row.clean) ? 0 : 1;
}

/** The date, commit and machine, for the record in docs/testing.md. */
function describeRun(): string {
  let commit = 'unknown commit';
  try {
    commit = `commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}`;
  } catch {
    // Not a git checkout: the record says so.
  }
  return `${new Date().toISOString().slice(0, 10)}, ${commit}, node ${process.version}`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`stress: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
