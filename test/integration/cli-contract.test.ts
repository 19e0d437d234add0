/**
 * What every napshare program does with its command line (io/command-line.ts), through the real
 * CLIs: -h/--help prints the usage on stdout and exits 0 (--verbose is taken by every one); an
 * unknown flag or a missing required flag is one sentence on stderr pointing to that program's
 * --help, exit 1, nothing on stdout. test/unit/command-line.test.ts covers the other mistakes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, runCli } from '../helpers/cli.ts';

afterAll(killAll);

interface Program {
  /** How a person starts it (the start of its usage and of its --help hint). */
  command: string;
  program: 'server' | 'peer';
  args: string[];
  /** The entry point's name in its error sentences. */
  name: string;
  /** What running it without its required flags says. */
  missing?: string;
}

const PROGRAMS: Program[] = [
  { command: 'npm run -s server --', program: 'server', args: [], name: 'napshare server' },
  {
    command: 'npm run -s server -- chat',
    program: 'server',
    args: ['chat'],
    name: 'napshare server',
    missing: 'Missing --port',
  },
  { command: 'npm run -s peer --', program: 'peer', args: [], name: 'napshare peer' },
  {
    command: 'npm run -s peer -- chat',
    program: 'peer',
    args: ['chat'],
    name: 'napshare peer',
    missing: 'Missing --alias, --dir, --port',
  },
  { command: 'npm run -s peer -- lan', program: 'peer', args: ['lan'], name: 'napshare peer' },
  {
    command: 'npm run -s peer -- dht',
    program: 'peer',
    args: ['dht'],
    name: 'napshare peer',
    missing: 'Missing --dir',
  },
  { command: 'npm run -s peer -- dht-client', program: 'peer', args: ['dht-client'], name: 'napshare peer' },
  { command: 'npm run -s peer -- gossip', program: 'peer', args: ['gossip'], name: 'napshare peer' },
  { command: 'npm run -s peer -- web', program: 'peer', args: ['web'], name: 'napshare peer' },
];

async function run(program: Program, extra: string[]) {
  const cli = runCli(program.program, [...program.args, ...extra]);
  cli.child.stdin.end();
  const code = await cli.exited;
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}

// Each case is a few short-lived processes: run them side by side.
describe.concurrent('the command line of every program', () => {
  it.each(PROGRAMS)('$command: --verbose -h prints the usage on stdout, exit 0', async (program) => {
    const { code, stdout, stderr } = await run(program, ['--verbose', '-h']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: [] });
    expect(stdout[0]?.startsWith(`Usage: ${program.command} `)).toBe(true);
  });

  it.each(PROGRAMS)(
    '$command: a bad argument is one sentence pointing to --help, exit 1',
    async (program) => {
      const hint = `see ${program.command} --help.`;
      const [unknown, none] = await Promise.all([
        run(program, ['--no-such-flag']),
        program.missing ? run(program, []) : undefined,
      ]);
      expect(unknown).toEqual({
        code: 1,
        stdout: [],
        stderr: [`${program.name}: Unknown option '--no-such-flag'; ${hint}`],
      });
      if (program.missing)
        expect(none).toEqual({
          code: 1,
          stdout: [],
          stderr: [`${program.name}: ${program.missing}; ${hint}`],
        });
    },
  );
});
