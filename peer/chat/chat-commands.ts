/**
 * The chat peer's typed lines, with seed 002's own words: plain text is a chat message for
 * everyone; `/register`, `/setNick NAME`, `/setSharedFiles`, `/showall`, `/query FILE` and
 * `/fetch FILE IP:PORT` are the seed's commands and `exit` leaves, as in its client; napshare adds
 * `/help`, and `/quit` (or `/exit`) as other ways to leave. Pure: parsing only, errors are
 * BAD_ARGUMENT sentences.
 */
import { parseHostPort } from '../../shared/address.ts';
import { NapError } from '../../shared/errors.ts';
import { assertSafeFileName } from '../../shared/file-names.ts';
import { assertAlias } from '../../shared/index-protocol.ts';

export type ChatCommand =
  | { type: 'say'; text: string }
  | { type: 'register' }
  | { type: 'showall' }
  | { type: 'query'; file: string }
  | { type: 'setNick'; alias: string }
  | { type: 'setSharedFiles' }
  | { type: 'fetch'; file: string; host: string; port: number }
  | { type: 'help' }
  | { type: 'quit' };

export const CHAT_HELP = [
  'Type a line to send it to everyone. Commands (seed 002):',
  '  /register                register again: your alias, your port and the files in your folder now',
  '  /setNick NAME            change your alias',
  '  /setSharedFiles          rescan your folder and share what is in it now',
  '  /showall                 online peers: alias -> address (files)',
  '  /query FILE              who shares FILE',
  '  /fetch FILE IP:PORT      download FILE from the peer at IP:PORT into your folder',
  '  exit                     leave (so does the end of input)',
  "napshare's own: /help (this text), /quit or /exit (leave, as exit does).",
  'A line starting with // sends the rest, starting with /, as a message.',
];

/** Seed 002's client leaves on a line that is `exit` (`if data.lower=="exit": exit()`). */
const EXIT_WORD = 'exit';

/** Parses one typed line; null for a blank line (nothing to do). */
export function parseChatLine(line: string): ChatCommand | null {
  if (line.trim().length === 0) return null;
  if (line.trim().toLowerCase() === EXIT_WORD) return { type: 'quit' };
  if (line.startsWith('//')) return { type: 'say', text: line.slice(1) };
  if (!line.startsWith('/')) return { type: 'say', text: line };
  const match = /^\/(\S+)\s*(.*)$/.exec(line.trim());
  const name = (match?.[1] ?? '').toLowerCase();
  const rest = (match?.[2] ?? '').trim();
  switch (name) {
    case 'register':
      return noArguments('register', rest, { type: 'register' });
    case 'showall':
      return noArguments('showall', rest, { type: 'showall' });
    case 'setsharedfiles':
      return noArguments('setSharedFiles', rest, { type: 'setSharedFiles' });
    case 'help':
      return noArguments('help', rest, { type: 'help' });
    case 'quit':
    case 'exit':
      return noArguments(name, rest, { type: 'quit' });
    case 'query':
      if (rest.length === 0) throw usage('/query FILE');
      return { type: 'query', file: assertSafeFileName(rest) };
    case 'setnick':
      if (rest.length === 0 || /\s/.test(rest)) throw usage('/setNick NAME (one word)');
      return { type: 'setNick', alias: assertAlias(rest) };
    case 'fetch': {
      // The address is the last word; the file name is everything before it (it may have spaces).
      const parts = /^(.+)\s+(\S+)$/.exec(rest);
      if (!parts) throw usage('/fetch FILE IP:PORT');
      const { host, port } = parseHostPort(parts[2] as string);
      return { type: 'fetch', file: assertSafeFileName((parts[1] as string).trim()), host, port };
    }
    default:
      throw new NapError(
        'BAD_ARGUMENT',
        `Unknown command /${match?.[1] ?? ''}; /help lists the commands (start with // to send a line beginning with /).`,
      );
  }
}

function noArguments(name: string, rest: string, command: ChatCommand): ChatCommand {
  if (rest.length > 0) throw usage(`/${name} (no arguments)`);
  return command;
}

function usage(form: string): NapError {
  return new NapError('BAD_ARGUMENT', `Usage: ${form}.`);
}
