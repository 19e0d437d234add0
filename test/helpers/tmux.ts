/**
 * Real terminals for the tests that drive napshare's menus with keystrokes: a tmux server of the
 * test file's own (nothing else on the machine is touched), one 120x30 window per program, its
 * screen read back as lines. tmux is installed by .ci/run; `hasTmux` lets a test skip without it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { programCommand } from './cli.ts';
import { waitUntil } from './wait.ts';

const run = promisify(execFile);

export const hasTmux = await run('tmux', ['-V']).then(
  () => true,
  () => false,
);

/** Quotes `text` for sh. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export class Terminals {
  private readonly socket: string;

  constructor(name: string) {
    this.socket = `napshare-${name}-${process.pid}`;
  }

  async tmux(...args: string[]): Promise<string> {
    return (await run('tmux', ['-L', this.socket, ...args])).stdout;
  }

  /**
   * Starts `program` (server or peer) with `args` in a new terminal `name`, in folder `cwd`.
   * `redirect` is shell text after the command (`> out.txt`, `| tee out.txt`).
   */
  async open(
    name: string,
    program: 'server' | 'peer',
    args: string[],
    cwd: string,
    redirect = '',
  ): Promise<void> {
    const command = ['env', '-u', 'INIT_CWD', 'NO_COLOR=1', ...programCommand(program), ...args]
      .map(shellQuote)
      .join(' ');
    // The terminal stays open after the program ends, so its last screen can be read.
    await this.tmux(
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      '120',
      '-y',
      '30',
      '-c',
      cwd,
      `${command} ${redirect}; sleep 600`,
    );
  }

  /** The visible lines of a terminal (a line wrapped by the terminal is one), trailing blanks dropped. */
  async screen(name: string): Promise<string[]> {
    const lines = (await this.tmux('capture-pane', '-p', '-J', '-t', name))
      .split('\n')
      .map((line) => line.trimEnd());
    while (lines.length > 0 && lines.at(-1) === '') lines.pop();
    return lines;
  }

  /** Every terminal's screen, for a failure message that shows what each side was doing. */
  async allScreens(): Promise<string> {
    const names = (await this.tmux('list-sessions', '-F', '#{session_name}')).split('\n').filter(Boolean);
    const screens = await Promise.all(
      names.map(async (name) => `--- ${name}:\n${(await this.screen(name)).join('\n')}`),
    );
    return screens.join('\n');
  }

  /** Waits until a line of terminal `name` contains `text` (or matches it); returns the screen. */
  async until(name: string, text: string | RegExp, timeoutMs = 30_000): Promise<string[]> {
    let last: string[] = [];
    await waitUntil(
      async () => {
        last = await this.screen(name);
        return last.some((line) => (typeof text === 'string' ? line.includes(text) : text.test(line)));
      },
      `terminal ${name} shows ${text}`,
      timeoutMs,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}; it shows:\n${last.join('\n')}\n${await this.allScreens()}`);
    });
    return last;
  }

  /** Waits until terminal `name` shows exactly `lines`. */
  async showsExactly(name: string, lines: string[], what: string): Promise<void> {
    let last: string[] = [];
    await waitUntil(async () => {
      last = await this.screen(name);
      return JSON.stringify(last) === JSON.stringify(lines);
    }, `terminal ${name} shows ${what}`).catch((error: Error) => {
      throw new Error(`${error.message}; it shows:\n${last.join('\n')}\nexpected:\n${lines.join('\n')}`);
    });
  }

  async keys(name: string, ...sequence: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', name, ...sequence);
  }

  async kill(name: string): Promise<void> {
    await this.tmux('kill-session', '-t', name);
  }

  /** Ends every terminal of this test file (afterAll). */
  async close(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined);
  }
}
