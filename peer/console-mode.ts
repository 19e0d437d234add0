/**
 * Which console the course peer offers, from where its three streams go. The menu draws on
 * stderr and erases its prompts, so it needs a person at a terminal (stdin and stderr) and must
 * be the only writer there: with stdout on the same terminal the course lines are written
 * between prompts; with stdout in a file (`> peer2.txt`, a transcript) the peer shows each line
 * on the terminal itself too; with stdout in a pipe (`| tee peer2.txt`) another process writes
 * the lines on the terminal at moments the menu cannot see, which would garble it — then the
 * person types line commands instead. Pure: main.ts says what each stream is.
 */

export interface Streams {
  stdinIsTerminal: boolean;
  stderrIsTerminal: boolean;
  stdoutIsTerminal: boolean;
  /** stdout is a pipe or a socket (another program reads the lines). */
  stdoutIsPipe: boolean;
}

export interface ConsoleMode {
  /** The inquirer menu (else one command a line from stdin). */
  menu: boolean;
  /** Show each course line on the terminal (stderr) as well: stdout goes to a file. */
  echoLines: boolean;
  /** A person types line commands at a terminal: tell them how, once, on stderr. */
  typedCommands: boolean;
  /** Ctrl+C comes from a person at a terminal (a normal way to leave: exit code 0). */
  atTerminal: boolean;
}

export function consoleMode(streams: Streams): ConsoleMode {
  const person = streams.stdinIsTerminal && streams.stderrIsTerminal;
  const menu = person && !streams.stdoutIsPipe;
  return {
    menu,
    echoLines: menu && !streams.stdoutIsTerminal,
    typedCommands: person && !menu,
    atTerminal: streams.stdinIsTerminal,
  };
}

/** The one line told to a person typing line commands because stdout is a pipe. */
export const TYPED_COMMANDS_NOTICE =
  'stdout goes to a pipe, so there is no menu (the program reading it writes on this terminal too): ' +
  'type one command a line — JOIN ip port folder, SEARCH file, DOWNLOAD ip port — and Ctrl+D to quit; ' +
  'to keep the menu, send stdout to a file instead (> peer.txt).';
