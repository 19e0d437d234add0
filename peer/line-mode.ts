/**
 * The peer without a terminal: one command per stdin line, run in order, the same stdout lines
 * as the menu, one error sentence per failure on stderr. Scripts and tests drive the peer so.
 */
import readline from 'node:readline';
import { describeError } from '../shared/errors.ts';
import { parseLineCommand } from './line-commands.ts';
import type { PeerSession } from './session.ts';

export interface LineModeResult {
  failures: number;
}

export async function runLineMode(
  session: PeerSession,
  input: NodeJS.ReadableStream,
  reportError: (message: string) => void,
): Promise<LineModeResult> {
  const lines = readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  let failures = 0;
  for await (const line of lines) {
    if (line.trim().length === 0 || line.trimStart().startsWith('#')) continue;
    try {
      const command = parseLineCommand(line);
      switch (command.type) {
        case 'JOIN':
          await session.join(command.ip, command.port, command.folder);
          break;
        case 'SEARCH':
          await session.search(command.file);
          break;
        case 'DOWNLOAD':
          await session.download(command.ip, command.port);
          break;
        case 'DOWNLOAD_ALL':
          await session.downloadFromAll();
          break;
      }
    } catch (error) {
      failures++;
      reportError(describeError(error));
    }
  }
  return { failures };
}
