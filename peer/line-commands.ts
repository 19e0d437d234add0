/**
 * Parsing of the peer's line commands (stdin not a terminal): `JOIN ip port folder`,
 * `SEARCH file`, `DOWNLOAD ip port`, and `DOWNLOAD` alone (from every peer of the last SEARCH). Pure; the folder and the file name are the rest of the line,
 * so they may contain spaces.
 */
import { parseIPv4, parsePort } from '../shared/address.ts';
import { NapError } from '../shared/errors.ts';

export type LineCommand =
  | { type: 'JOIN'; ip: string; port: number; folder: string }
  | { type: 'SEARCH'; file: string }
  | { type: 'DOWNLOAD'; ip: string; port: number }
  /** `DOWNLOAD` with no address: from every peer of the last SEARCH at once (multi-source). */
  | { type: 'DOWNLOAD_ALL' };

export const LINE_COMMANDS_HELP = 'commands: JOIN ip port folder | SEARCH file | DOWNLOAD ip port | DOWNLOAD';

/** Parses one non-empty line. Throws BAD_ARGUMENT with a sentence saying what is wrong. */
export function parseLineCommand(line: string): LineCommand {
  const trimmed = line.trim();
  const match = /^(\S+)\s*(.*)$/.exec(trimmed);
  const verb = (match?.[1] ?? '').toUpperCase();
  const rest = match?.[2] ?? '';
  switch (verb) {
    case 'JOIN': {
      const parts = /^(\S+)\s+(\S+)\s+(.+)$/.exec(rest);
      if (!parts) throw usage('JOIN ip port folder');
      return {
        type: 'JOIN',
        ip: parseIPv4(parts[1] as string),
        port: parsePort(parts[2] as string, true),
        folder: parts[3] as string,
      };
    }
    case 'SEARCH':
      if (rest.length === 0) throw usage('SEARCH file');
      return { type: 'SEARCH', file: rest };
    case 'DOWNLOAD': {
      if (rest.length === 0) return { type: 'DOWNLOAD_ALL' };
      const parts = /^(\S+)\s+(\S+)$/.exec(rest);
      if (!parts) throw usage('DOWNLOAD ip port');
      return { type: 'DOWNLOAD', ip: parseIPv4(parts[1] as string), port: parsePort(parts[2] as string) };
    }
    default:
      throw new NapError(
        'BAD_ARGUMENT',
        `Unknown command ${JSON.stringify(match?.[1] ?? trimmed)}; ${LINE_COMMANDS_HELP}.`,
      );
  }
}

function usage(form: string): NapError {
  return new NapError('BAD_ARGUMENT', `Usage: ${form}.`);
}
