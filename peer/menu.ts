/**
 * The course menu (seed 003, section 6): exactly JOIN, SEARCH and DOWNLOAD. JOIN asks only IP,
 * port and folder; SEARCH only the file name; DOWNLOAD only the IP and port of the peer to
 * download from. Prompts render on stderr and vanish once answered, so the terminal keeps just
 * the console contract's lines. Ctrl+C leaves.
 */
import { input, select } from '@inquirer/prompts';
import { parseIPv4, parsePort } from '../shared/address.ts';
import { describeError, isPromptExit, validatorOf } from '../shared/errors.ts';
import { terminalLine } from '../shared/terminal-text.ts';
import type { NoticeBoard } from './notice-board.ts';
import type { PeerSession } from './session.ts';

export const MENU_CHOICES = ['JOIN', 'SEARCH', 'DOWNLOAD'] as const;
export type MenuChoice = (typeof MENU_CHOICES)[number];

const context = { output: process.stderr, clearPromptOnDone: true };

export interface MenuOptions {
  reportError: (message: string) => void;
  /** Extra entries after the course's three (the extended menu); never in the course menu. */
  extra?: { name: string; run: () => Promise<void> }[];
  /** Notices to show between prompts (a notice arriving at the menu redraws it under the notice). */
  notices?: NoticeBoard;
}

/** Runs until Ctrl+C (which rejects with ExitPromptError for the caller to treat as quit). */
export async function runMenu(session: PeerSession, options: MenuOptions): Promise<never> {
  const extra = options.extra ?? [];
  for (;;) {
    for (const notice of options.notices?.take() ?? []) process.stderr.write(terminalLine(notice));
    const redraw = new AbortController();
    const stopListening = options.notices?.onPost(() => redraw.abort());
    let choice: string;
    try {
      choice = await select(
        {
          message: 'napshare',
          choices: [...MENU_CHOICES, ...extra.map((entry) => entry.name)].map((name) => ({
            name,
            value: name,
          })),
        },
        { ...context, signal: redraw.signal },
      );
    } catch (error) {
      // A notice came: the menu was closed to print it; draw it again.
      if (error instanceof Error && error.name === 'AbortPromptError') continue;
      throw error;
    } finally {
      stopListening?.();
    }
    try {
      switch (choice) {
        case 'JOIN':
          await menuJoin(session);
          break;
        case 'SEARCH':
          await menuSearch(session);
          break;
        case 'DOWNLOAD':
          await menuDownload(session);
          break;
        default:
          await extra.find((entry) => entry.name === choice)?.run();
      }
    } catch (error) {
      if (isPromptExit(error)) throw error;
      options.reportError(describeError(error));
    }
  }
}

// Peer start-up (seed 003, 5i): IP, port and folder typed on the keyboard, then JOIN.
async function menuJoin(session: PeerSession): Promise<void> {
  const ip = await input(
    { message: 'IP', default: session.joined?.ip ?? '127.0.0.1', validate: validatorOf(parseIPv4) },
    context,
  );
  const port = await input(
    {
      message: 'Port',
      default: defaultString(session.joined?.port),
      validate: validatorOf((text) => parsePort(text, true)),
    },
    context,
  );
  const folder = await input(
    { message: 'Folder', default: session.joined?.folderTyped ?? '', required: true },
    context,
  );
  await session.join(parseIPv4(ip), parsePort(port, true), folder);
}

async function menuSearch(session: PeerSession): Promise<void> {
  const file = await input({ message: 'File name', required: true }, context);
  await session.search(file.trim());
}

async function menuDownload(session: PeerSession): Promise<void> {
  // Before JOIN or SEARCH there is nothing to download: say so before asking anything.
  session.assertCanDownload();
  // Offer the first peer of the last SEARCH as the default answer.
  const [firstIp, firstPort] = (session.lastSearchResult?.peers[0] ?? '127.0.0.1:').split(':');
  const ip = await input(
    { message: 'Peer IP', default: firstIp ?? '127.0.0.1', validate: validatorOf(parseIPv4) },
    context,
  );
  const port = await input(
    { message: 'Peer port', default: firstPort ?? '', validate: validatorOf(parsePort) },
    context,
  );
  await session.download(parseIPv4(ip), parsePort(port));
}

function defaultString(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}
