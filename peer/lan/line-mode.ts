/**
 * The LAN mode without a terminal: one command per stdin line (line-commands.ts), run in order.
 * End of input is QUIT once every command before it has finished. Messages from the group print
 * whenever they arrive: nobody is typing on a pipe.
 */
import readline from 'node:readline';
import type { ConsoleGate } from './console-gate.ts';
import { failureLine, type LanActions } from './lan-actions.ts';
import { type LanCommand, parseLanCommand } from './line-commands.ts';

export interface LanLineModeResult {
  failures: number;
}

export async function runLanLineMode(
  actions: LanActions,
  console: ConsoleGate,
  input: NodeJS.ReadableStream,
): Promise<LanLineModeResult> {
  const lines = readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  let failures = 0;
  try {
    for await (const line of lines) {
      if (line.trim().length === 0 || line.trimStart().startsWith('#')) continue;
      let command: LanCommand | undefined;
      try {
        command = parseLanCommand(line);
        if (!(await actions.run(command))) break;
      } catch (error) {
        failures++;
        console.stderr(failureLine(command?.type, error));
      }
    }
  } finally {
    lines.close();
  }
  return { failures };
}
