/**
 * What every napshare program does with its command line, in one place: strict flags (node:util
 * parseArgs), `-h`/`--help` printing the usage on stdout (exit 0), `--verbose` logging on stderr,
 * a bad or missing argument as one sentence pointing to --help (exit 1), Ctrl+C and SIGTERM as a
 * clean stop, and an exit that lets stdout and stderr flush first.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { describeError, isPromptExit, NapError } from '../shared/errors.ts';
import type { Log } from '../shared/log.ts';
import { terminalLine } from '../shared/terminal-text.ts';

/** Every program takes these. */
const COMMON = {
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** How long stdout and stderr get to flush at exit (a pipe or a Windows console may hold lines). */
const FLUSH_MS = 1000;

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec<O extends Options, P extends boolean, R extends keyof O & string> {
  /** How a person starts it, e.g. `npm run -s peer -- chat`: error sentences point to its --help. */
  command: string;
  /** The --help text (stdout). */
  usage: string;
  /** The program's flags; --verbose and -h/--help are added. */
  options: O;
  /** Whether it takes positional arguments (gossip's LOCALPORT REMOTEIP REMOTEPORT). */
  positionals?: P;
  /** Flags that must be given, in the order a missing one is named. */
  required?: readonly R[];
}

type Config<O extends Options, P extends boolean> = {
  args: string[];
  options: O & typeof COMMON;
  strict: true;
  allowPositionals: P;
};

type Parsed<O extends Options, P extends boolean> = ReturnType<typeof parseArgs<Config<O, P>>>;

/** What parseArgs gives, the required flags typed as given. */
export type CommandLine<O extends Options, P extends boolean = false, R extends string = never> = Omit<
  Parsed<O, P>,
  'values'
> & { values: Omit<Parsed<O, P>['values'], R> & { [K in R]: string } };

/**
 * Parses `argv` against `spec`. With --help it prints the usage on stdout and returns undefined
 * (the program then exits 0). A bad argument throws BAD_ARGUMENT: one sentence ending with
 * "see COMMAND --help".
 */
export function parseCommandLine<
  const O extends Options,
  const P extends boolean = false,
  const R extends keyof O & string = never,
>(argv: string[], spec: CommandSpec<O, P, R>): CommandLine<O, P, R> | undefined {
  const seeHelp = `see ${spec.command} --help`;
  let parsed: Parsed<O, P>;
  try {
    parsed = parseArgs<Config<O, P>>({
      args: argv,
      options: { ...spec.options, ...COMMON },
      strict: true,
      allowPositionals: (spec.positionals ?? false) as P,
    });
  } catch (error) {
    if (!(error instanceof Error) || !(error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))
      throw error;
    // parseArgs explains itself in a sentence, then sometimes adds advice about `--`: the first
    // sentence is the one that says what is wrong.
    const [first] = error.message.split(/\.(?:\s|$)/);
    throw new NapError('BAD_ARGUMENT', `${first}; ${seeHelp}.`, { cause: error });
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.help) {
    process.stdout.write(`${spec.usage}\n`);
    return undefined;
  }
  const missing = (spec.required ?? []).filter((flag) => values[flag] === undefined);
  if (missing.length > 0) {
    const names = missing.map((flag) => `--${flag}`).join(', ');
    throw new NapError('BAD_ARGUMENT', `Missing ${names}; ${seeHelp}.`);
  }
  return parsed as unknown as CommandLine<O, P, R>;
}

/** `--verbose`'s log: one line on stderr per message, tagged (`[peer] ...`); nothing otherwise. */
export function verboseLog(enabled: boolean | undefined, tag: string): Log | undefined {
  // terminal-text.ts: a log line may quote what the network sent.
  return enabled ? (message) => process.stderr.write(terminalLine(`[${tag}] ${message}`)) : undefined;
}

/** Resolves with the first of Ctrl+C (SIGINT) and SIGTERM: a program's clean way to stop. */
export function stopSignal(): Promise<'SIGINT' | 'SIGTERM'> {
  return new Promise((resolve) => {
    const on = (signal: 'SIGINT' | 'SIGTERM') => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

/**
 * The exit code after a signal: Ctrl+C is how a person at a terminal leaves (0); a scripted run
 * stopped by a signal says so, as a shell does (128 + the signal's number).
 */
export function signalExitCode(signal: 'SIGINT' | 'SIGTERM', atTerminal: boolean): number {
  if (signal === 'SIGTERM') return 143;
  return atTerminal ? 0 : 130;
}

/**
 * Runs an entry point: in the folder the user started `npm run` from (npm runs scripts in
 * napshare's own folder and passes the user's as INIT_CWD, so a folder they type is relative to
 * where they are), with its exit code; a failure is one sentence `NAME: ...` on stderr and exit
 * code 1; Ctrl+C at a prompt is a normal way out (0).
 */
export function runProgram(name: string, main: (argv: string[]) => Promise<number>): void {
  if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
  main(process.argv.slice(2)).then(exit, (error: unknown) => {
    if (isPromptExit(error)) return exit(0);
    process.stderr.write(terminalLine(`${name}: ${describeError(error)}`));
    exit(1);
  });
}

/** Lets stdout and stderr flush, then exits with `code`. */
function exit(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), FLUSH_MS).unref();
}
