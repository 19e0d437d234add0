/**
 * The LAN mode's line commands (stdin not a terminal), one per line. Pure. A password has no
 * spaces here; a message and a file name are the rest of the line, so they may hold spaces.
 *   MSG text | GET ip port password file | GET n password | OFFER file password | OFFERS | QUIT
 */
import { parseIPv4, parsePort } from '../../shared/address.ts';
import { NapError } from '../../shared/errors.ts';

export type LanCommand =
  | { type: 'MSG'; text: string }
  | { type: 'GET'; ip: string; port: number; password: string; file: string }
  | { type: 'GET_OFFER'; id: number; password: string }
  | { type: 'OFFER'; file: string; password: string }
  | { type: 'OFFERS' }
  | { type: 'QUIT' };

export const LAN_COMMANDS_HELP =
  'commands: MSG text | GET ip port password file | GET n password | OFFER file password | OFFERS | QUIT';

/** Parses one non-empty line. Throws BAD_ARGUMENT with a sentence saying what is wrong. */
export function parseLanCommand(line: string): LanCommand {
  const match = /^\s*(\S+)(?:\s(.*))?$/.exec(line);
  const verb = (match?.[1] ?? '').toUpperCase();
  const rest = match?.[2] ?? '';
  switch (verb) {
    case 'MSG':
      // The text as typed (one separating space removed), so leading spaces survive.
      if (rest.trim().length === 0) throw usage('MSG text');
      return { type: 'MSG', text: rest };
    case 'GET': {
      const byNumber = /^\s*(\d+)\s+(\S+)\s*$/.exec(rest);
      if (byNumber) return { type: 'GET_OFFER', id: Number(byNumber[1]), password: byNumber[2] as string };
      const parts = /^\s*(\S+)\s+(\S+)\s+(\S+)\s+(.*\S)\s*$/.exec(rest);
      if (!parts) throw usage('GET ip port password file, or GET n password (n from OFFERS)');
      return {
        type: 'GET',
        ip: parseIPv4(parts[1] as string),
        port: parsePort(parts[2] as string),
        password: parts[3] as string,
        file: parts[4] as string,
      };
    }
    case 'OFFER': {
      const parts = /^\s*(.*\S)\s+(\S+)\s*$/.exec(rest);
      if (!parts) throw usage('OFFER file password');
      return { type: 'OFFER', file: parts[1] as string, password: parts[2] as string };
    }
    case 'OFFERS':
    case 'QUIT':
      if (rest.trim().length > 0) throw usage(verb);
      return { type: verb };
    default:
      throw new NapError(
        'BAD_ARGUMENT',
        `Unknown command ${JSON.stringify(match?.[1] ?? line.trim())}; ${LAN_COMMANDS_HELP}.`,
      );
  }
}

function usage(form: string): NapError {
  return new NapError('BAD_ARGUMENT', `Usage: ${form}.`);
}
