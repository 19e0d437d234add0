/**
 * The daemon's control commands (seed 000, 11-12 and 22: one command a line on a local TCP socket,
 * typed with netcat). Pure: a line in, a command out, or a NapError whose message is the one-line
 * answer.
 */
import { type HostPort, parseHostPort } from '../../shared/address.ts';
import { NapError } from '../../shared/errors.ts';
import { assertSafeFileName } from '../../shared/file-names.ts';

export type ControlCommand =
  | { type: 'help' }
  | { type: 'search'; keyword: string; all: boolean }
  | { type: 'publish'; dir: string }
  | { type: 'clean' }
  | { type: 'get'; name: string; from?: HostPort }
  | { type: 'status' }
  | { type: 'quit' };

/** The hint every unknown or malformed command gets. */
export const HELP_HINT = 'type help for the list of commands';

/** `help`'s answer (seed 000, 11): every command, one a line. */
export const HELP_LINES: readonly string[] = [
  'Commands (one a line; every answer ends with an empty line):',
  '  help                  this list',
  '  search KEYWORD        holders of a file name or of a word of one, as IP:PORT NAME',
  '  search --all KEYWORD  the same, plus holders that did not confirm, as IP:PORT ?',
  "  publish DIR           share DIR's files (relative to where the daemon started); retries pending keys",
  '  clean                 stop sharing every published file',
  '  get NAME [IP:PORT]    download NAME into the download folder (from IP:PORT, or a holder found)',
  '  status                node id, routing table, datagrams dropped, published files, pending keys',
  '  quit                  close this connection',
];

/** Parses one command line. Throws BAD_ARGUMENT with a one-line message for anything else. */
export function parseControlCommand(line: string): ControlCommand {
  const text = line.trim();
  const space = text.search(/\s/);
  const typed = space === -1 ? text : text.slice(0, space);
  const word = typed.toLowerCase();
  const rest = space === -1 ? '' : text.slice(space).trim();
  switch (word) {
    case 'help':
    case 'clean':
    case 'status':
    case 'quit':
      if (rest !== '') throw usage(`${word} takes no argument`, word);
      return { type: word };
    case 'search':
      return parseSearch(rest);
    case 'publish':
      if (rest === '') throw usage('publish needs a folder', 'publish DIR');
      return { type: 'publish', dir: rest };
    case 'get':
      return parseGet(rest);
    default:
      throw new NapError('BAD_ARGUMENT', `Unknown command ${JSON.stringify(shorten(typed))}; ${HELP_HINT}.`);
  }
}

function parseSearch(rest: string): ControlCommand {
  const all = /^--all(\s|$)/.test(rest);
  const keyword = all ? rest.slice('--all'.length).trim() : rest;
  if (keyword === '') throw usage('search needs a keyword', 'search [--all] KEYWORD');
  return { type: 'search', keyword, all };
}

/** `get NAME [IP:PORT]`: a name may hold spaces but never ":", so a last word with ":" is the address. */
function parseGet(rest: string): ControlCommand {
  if (rest === '') throw usage('get needs a file name', 'get NAME [IP:PORT]');
  const space = rest.search(/\s\S*$/);
  const last = space === -1 ? rest : rest.slice(space + 1);
  let name = rest;
  let from: HostPort | undefined;
  if (last.includes(':')) {
    if (space === -1) throw usage('get needs a file name before the address', 'get NAME [IP:PORT]');
    from = parseHostPort(last);
    name = rest.slice(0, space).trim();
  }
  assertSafeFileName(name);
  return from === undefined ? { type: 'get', name } : { type: 'get', name, from };
}

function usage(problem: string, form: string): NapError {
  return new NapError('BAD_ARGUMENT', `${problem} (usage: ${form}); ${HELP_HINT}.`);
}

/** Keeps an echoed word short: the line may be up to 64 KiB. */
function shorten(word: string): string {
  return word.length > 40 ? `${word.slice(0, 40)}...` : word;
}
