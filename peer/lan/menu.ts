/**
 * The LAN mode's menu on a terminal, in seed 001's own words (its preamble and III): 1 send a
 * message to the group, 2 get a file, 3 quit, 4 offer a file with a password; napshare adds 5,
 * the list of the offers heard. Prompts render on stderr and vanish once answered, so stdout
 * keeps only the chat lines and results. Messages arriving while the menu waits show at once
 * (the menu is redrawn under them); while a person types, they wait until Enter, so the line
 * being typed is never broken.
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

/** Seed 001's menu, word for word (1 to 4), then napshare's extra (5). */
export const LAN_MENU_CHOICES = [
  { value: 'MSG', name: '1. Emettre un message au groupe de discussion' },
  { value: 'GET', name: '2. Récupérer un fichier' },
  { value: 'QUIT', name: '3. Quitter' },
  { value: 'OFFER', name: '4. Offrir un fichier aux membres du groupe (en définissant un mot de passe)' },
  { value: 'OFFERS', name: '5. List the offers heard' },
] as const;
/** Seed 001, part I: the client "boucle indéfiniment sur un prompt "Votre message ?"". */
export const LAN_MESSAGE_PROMPT = 'Votre message ?';
type Choice = (typeof LAN_MENU_CHOICES)[number]['value'];

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
        { message: 'napshare lan', choices: LAN_MENU_CHOICES.map((choice) => ({ ...choice })) },
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
      return { type: 'MSG', text: await input({ message: LAN_MESSAGE_PROMPT, required: true }, context) };
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
