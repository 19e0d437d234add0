/** Which console the course peer offers for each place its streams go (peer/console-mode.ts). */
import { describe, expect, it } from 'vitest';
import { consoleMode } from '../../peer/console-mode.ts';

const terminal = {
  stdinIsTerminal: true,
  stderrIsTerminal: true,
  stdoutIsTerminal: true,
  stdoutIsPipe: false,
};

describe('consoleMode', () => {
  it('offers the menu to a person at a terminal, the lines on stdout', () => {
    expect(consoleMode(terminal)).toEqual({
      menu: true,
      echoLines: false,
      typedCommands: false,
      atTerminal: true,
    });
  });

  it('keeps the menu with stdout in a file, and shows the lines on the terminal too', () => {
    expect(consoleMode({ ...terminal, stdoutIsTerminal: false })).toEqual({
      menu: true,
      echoLines: true,
      typedCommands: false,
      atTerminal: true,
    });
  });

  it('takes typed line commands with stdout in a pipe (tee writes on the terminal too)', () => {
    expect(consoleMode({ ...terminal, stdoutIsTerminal: false, stdoutIsPipe: true })).toEqual({
      menu: false,
      echoLines: false,
      typedCommands: true,
      atTerminal: true,
    });
  });

  it('reads line commands from a script, silently', () => {
    const scripted = {
      stdinIsTerminal: false,
      stderrIsTerminal: false,
      stdoutIsTerminal: false,
      stdoutIsPipe: true,
    };
    expect(consoleMode(scripted)).toEqual({
      menu: false,
      echoLines: false,
      typedCommands: false,
      atTerminal: false,
    });
    // Piped input at a terminal: no menu (inquirer cannot read a pipe), nothing to tell.
    expect(consoleMode({ ...terminal, stdinIsTerminal: false })).toEqual({
      menu: false,
      echoLines: false,
      typedCommands: false,
      atTerminal: false,
    });
  });
});
