/**
 * Runs a Markdown page's shell examples (test/helpers/doc-examples.ts) the way a reader does, in
 * order: the commands of the first terminal in one bash (so `cd` and variables carry over, as in
 * a terminal), started in napshare's folder; each `# terminal N` in a bash of its own, in its own
 * process group, with its stdin left open (a terminal nobody types in) until the end of its
 * section, when it gets Ctrl+C (SIGINT to its process group) and must stop. Every wait has a
 * deadline that says what was awaited. Meant to run inside the sandbox of
 * test/integration/doc-examples.test.ts (its own network, /tmp and a read-only checkout).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { CliProcess, ROOT } from './cli.ts';
import { type Command, parseExamples, type Section, type Shows, type Terminal } from './doc-examples.ts';
import { withDeadline } from './wait.ts';

/** A command of the first terminal: the demo's 1.1 GB on a busy 2-core machine takes about 30 s. */
const COMMAND_TIMEOUT_MS = 240_000;
/** A terminal's ready text, or a `shows` text: a program's start under load, plus a transfer. */
const READY_TIMEOUT_MS = 60_000;
/** Ctrl+C to exit: every napshare program stops at once (it flushes and leaves). */
const STOP_TIMEOUT_MS = 15_000;
/** Lines of a failed step's output shown in the report. */
const SHOWN_LINES = 30;

/** Commands the pages give that this runner does not run, with why; each must still be found. */
export const NOT_RUN: { pattern: RegExp; why: string }[] = [
  { pattern: /^npm ci\b/, why: 'the checkout the examples run in is installed already' },
  { pattern: /^npm test$/, why: 'the examples are run by a test of that suite' },
  { pattern: /^npx vitest run\b/, why: 'a part of the suite these examples are run by' },
];

export interface StepResult {
  page: string;
  line: number;
  what: string;
  ok: boolean;
  /** Why it was not run (NOT_RUN), if it was not. */
  skipped?: string;
  error?: string;
  ms: number;
}

const DEFAULT_INDEX_PORT = 1099;

/** The environment a reader's terminal has: none of npm's or vitest's own variables. */
function readerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!/^(npm_|INIT_CWD$|VITEST|NODE_OPTIONS$|TEST$)/.test(key)) env[key] = value;
  return env;
}

function tail(text: string): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-SHOWN_LINES).join('\n');
}

/** The first terminal: one bash, fed one command at a time, its output caught per command. */
class ReaderShell {
  private readonly bash = spawn('bash', ['--noprofile', '--norc'], {
    cwd: ROOT,
    env: readerEnv(),
    stdio: ['pipe', 'pipe', 'inherit'],
    detached: true,
  });
  private done: ((rc: number) => void) | undefined;
  private buffered = '';
  private count = 0;

  constructor(private readonly scratch: string) {
    this.bash.stdout.setEncoding('utf8');
    this.bash.stdout.on('data', (chunk: string) => {
      this.buffered += chunk;
      const match = /__napshare_done (\d+)\n/.exec(this.buffered);
      if (match) {
        this.buffered = '';
        this.done?.(Number(match[1]));
      }
    });
  }

  async run(command: Command): Promise<{ rc: number; stdout: string; stderr: string }> {
    const n = ++this.count;
    const out = path.join(this.scratch, `command-${n}.out`);
    const err = path.join(this.scratch, `command-${n}.err`);
    const finished = new Promise<number>((resolve) => {
      this.done = resolve;
    });
    // The command reads nothing from this bash's own stdin (where the next commands come from).
    this.bash.stdin.write(
      `{ ${command.text}\n} </dev/null >'${out}' 2>'${err}'; echo "__napshare_done $?"\n`,
    );
    const rc = await withDeadline(finished, COMMAND_TIMEOUT_MS, `\`${command.text}\` to end`);
    const read = (file: string) => fs.readFile(file, 'utf8').catch(() => '');
    return { rc, stdout: await read(out), stderr: await read(err) };
  }

  close(): void {
    if (this.bash.pid !== undefined && this.bash.exitCode === null) process.kill(-this.bash.pid, 'SIGKILL');
  }
}

/** `run -s server` without `-- chat`: the index server, ready once its port accepts connections. */
function indexServerPort(commands: string[]): number | undefined {
  const server = commands.find((command) => /\brun -s (server|start)\b(?! -- chat)/.test(command));
  if (server === undefined) return undefined;
  return Number(/--port (\d+)/.exec(server)?.[1] ?? DEFAULT_INDEX_PORT);
}

async function waitForPort(port: number, what: string): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what} to accept connections`);
    // No event says a port of another process opened: ask again a little later.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

class OpenTerminal {
  readonly process: CliProcess;

  constructor(readonly terminal: Terminal) {
    const child = spawn('bash', ['--noprofile', '--norc', '-c', terminal.commands.join('\n')], {
      cwd: ROOT,
      env: readerEnv(),
      stdio: 'pipe',
      detached: true,
    });
    this.process = new CliProcess(child);
  }

  /** Resolves once either stream has shown `text`. */
  shows(text: string): Promise<unknown> {
    return Promise.any([
      this.process.waitFor(text, 'stdout', READY_TIMEOUT_MS),
      this.process.waitFor(text, 'stderr', READY_TIMEOUT_MS),
    ]).catch((error: AggregateError) => {
      throw error.errors[0];
    });
  }

  async ready(): Promise<void> {
    if (this.terminal.ready !== undefined) {
      await this.shows(this.terminal.ready);
      return;
    }
    const port = indexServerPort(this.terminal.commands);
    if (port !== undefined) await waitForPort(port, `${this.terminal.title} (port ${port})`);
  }

  /** Ctrl+C; throws when the terminal had stopped already or does not stop. */
  async stop(): Promise<void> {
    const pid = this.process.child.pid as number;
    if (this.process.child.exitCode !== null || this.process.child.signalCode !== null)
      throw new Error(`${this.terminal.title} stopped before the end of its section${this.output()}`);
    process.kill(-pid, 'SIGINT');
    try {
      await withDeadline(this.process.exited, STOP_TIMEOUT_MS, `${this.terminal.title} to stop on Ctrl+C`);
    } catch (error) {
      process.kill(-pid, 'SIGKILL');
      throw new Error(`${(error as Error).message}${this.output()}`);
    }
  }

  output(): string {
    return `\nstdout:\n${tail(this.process.stdout.join('\n'))}\nstderr:\n${tail(this.process.stderr.join('\n'))}`;
  }
}

async function runSection(page: string, section: Section, shell: ReaderShell): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const terminals = new Map<number, OpenTerminal>();
  const record = async (line: number, what: string, action: () => Promise<void>) => {
    const started = performance.now();
    try {
      await action();
      results.push({ page, line, what, ok: true, ms: performance.now() - started });
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      results.push({ page, line, what, ok: false, error: message, ms: performance.now() - started });
      return false;
    }
  };
  try {
    for (const step of section.steps) {
      let ok: boolean;
      if (step.kind === 'command') {
        const skip = NOT_RUN.find((rule) => rule.pattern.test(step.text));
        if (skip) {
          results.push({ page, line: step.line, what: step.text, ok: true, skipped: skip.why, ms: 0 });
          continue;
        }
        ok = await record(step.line, step.text, () => runCommand(shell, step));
      } else if (step.kind === 'terminal') {
        const open = new OpenTerminal(step);
        terminals.set(step.number, open);
        ok = await record(step.line, `# ${step.title}`, async () => {
          try {
            await open.ready();
          } catch (error) {
            throw new Error(`${(error as Error).message}${open.output()}`);
          }
        });
      } else
        ok = await record(step.line, `# terminal ${step.terminal} shows "${step.text}"`, () =>
          shows(step, terminals),
        );
      if (!ok) break; // the steps after a failed one would only fail in its wake
    }
  } finally {
    for (const open of terminals.values())
      await record(open.terminal.line, `Ctrl+C in ${open.terminal.title}`, () => open.stop());
  }
  return results;
}

async function runCommand(shell: ReaderShell, command: Command): Promise<void> {
  const { rc, stdout, stderr } = await shell.run(command);
  const output = `\nstdout:\n${tail(stdout)}\nstderr:\n${tail(stderr)}`;
  if (rc !== 0) throw new Error(`exit code ${rc}${output}`);
  if (command.expect !== undefined && !stdout.includes(command.expect) && !stderr.includes(command.expect))
    throw new Error(`did not print "${command.expect}"${output}`);
}

async function shows(step: Shows, terminals: Map<number, OpenTerminal>): Promise<void> {
  const open = terminals.get(step.terminal);
  if (!open) throw new Error(`no terminal ${step.terminal} is open in this section`);
  try {
    await open.shows(step.text);
  } catch (error) {
    throw new Error(`${(error as Error).message}${open.output()}`);
  }
}

/** Runs every example of `page` (a path relative to the checkout), section by section. */
export async function runPage(page: string, scratch: string): Promise<StepResult[]> {
  const sections = parseExamples(await fs.readFile(path.join(ROOT, page), 'utf8'));
  const shell = new ReaderShell(scratch);
  const results: StepResult[] = [];
  try {
    for (const section of sections) results.push(...(await runSection(page, section, shell)));
  } finally {
    shell.close();
  }
  return results;
}
