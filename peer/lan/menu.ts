/**
 * The LAN mode's menu on a terminal (seed 001, preamble and III): 1 send a message to the group,
 * 2 get a file, 3 quit, 4 offer a file with a password; 5 lists the offers heard. Prompts render
 * on stderr and vanish once answered, so stdout keeps only the chat lines and results. Messages
 * arriving while the menu waits show at once (the menu is redrawn under them); while a person
 * types, they wait until Enter, so the line being typed is never broken.
 */
import { input, password, select } from '@inquirer/prompts';
import { parseIPv4, parsePort } from '../../shared/address.ts';
import { isPromptExit, validatorOf } from '../../shared/errors.ts';
import { assertSafeFileName } from '../../shared/file-names.ts';
import type { ConsoleGate } from './console-gate.ts';
import { failureLine, type LanActions } from './lan-actions.ts';
import type { LanCommand } from './line-commands.ts';
import { assertPassword } from './offered-files.ts';

const context = { output: process.stderr, clearPromptOnDone: true };

const CHOICES = [
  { value: 'MSG', name: '1. Send a message to the group' },
  { value: 'GET', name: '2. Get a file' },
  { value: 'QUIT', name: '3. Quit' },
  { value: 'OFFER', name: '4. Offer a file to the group (with a password)' },
  { value: 'OFFERS', name: '5. List the offers heard' },
] as const;
type Choice = (typeof CHOICES)[number]['value'];

/** Returns when the person quits (menu 3 or Ctrl+C). */
export async function runLanMenu(actions: LanActions, gate: ConsoleGate): Promise<void> {
  for (;;) {
    const choice = await chooseShowingMessages(gate);
    if (choice === undefined || choice === 'QUIT') return;
    let command: LanCommand | undefined;
    gate.hold();
    try {
      command = await ask(choice, actions);
    } catch (error) {
      if (isPromptExit(error)) return;
      throw error;
    } finally {
      gate.release();
    }
    try {
      await actions.run(command);
    } catch (error) {
      gate.stderr(failureLine(command.type, error));
    }
  }
}

/** The menu; a line arriving closes it, shows, and opens it again. Undefined on Ctrl+C. */
async function chooseShowingMessages(gate: ConsoleGate): Promise<Choice | undefined> {
  for (;;) {
    const controller = new AbortController();
    gate.hold(() => controller.abort());
    try {
      return await select<Choice>(
        { message: 'napshare lan', choices: CHOICES.map((choice) => ({ ...choice })) },
        { ...context, signal: controller.signal },
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortPromptError') continue;
      if (isPromptExit(error)) return undefined;
      throw error;
    } finally {
      gate.release();
    }
  }
}

async function ask(choice: Exclude<Choice, 'QUIT'>, actions: LanActions): Promise<LanCommand> {
  switch (choice) {
    case 'MSG':
      // Seed 001, I: the client prompts "Votre message ?".
      return { type: 'MSG', text: await input({ message: 'Your message?', required: true }, context) };
    case 'GET':
      return askGet(actions);
    case 'OFFER': {
      const file = await input(
        { message: 'File to offer (a name in the folder)', validate: validatorOf(assertSafeFileName) },
        context,
      );
      return { type: 'OFFER', file, password: await askPassword('Password for it') };
    }
    case 'OFFERS':
      return { type: 'OFFERS' };
  }
}

// Menu 2: pick an offer heard, or type the address, file and password (seed 001, III.2).
async function askGet(actions: LanActions): Promise<LanCommand> {
  const offers = actions.offersHeard();
  if (offers.length > 0) {
    const id = await select<number>(
      {
        message: 'Which file?',
        choices: [
          ...offers.map((offer) => ({ value: offer.id, name: `${offer.file} at ${offer.ip}:${offer.port}` })),
          { value: 0, name: 'Another one (type its address)' },
        ],
      },
      context,
    );
    if (id !== 0) return { type: 'GET_OFFER', id, password: await askPassword('Password') };
  }
  const ip = await input(
    { message: 'Peer IP', default: '127.0.0.1', validate: validatorOf(parseIPv4) },
    context,
  );
  const port = await input({ message: 'Peer port', validate: validatorOf(parsePort) }, context);
  const file = await input({ message: 'File name', validate: validatorOf(assertSafeFileName) }, context);
  return {
    type: 'GET',
    ip: parseIPv4(ip),
    port: parsePort(port),
    file,
    password: await askPassword('Password'),
  };
}

function askPassword(message: string): Promise<string> {
  return password({ message, mask: '*', validate: validatorOf(assertPassword) }, context);
}
