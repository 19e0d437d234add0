/**
 * What the menu and the line commands do, with the lines they print: both front ends call these,
 * so a command reads and prints the same whichever way it was given.
 */
import { describeError, isNapError, NapError } from '../../shared/errors.ts';
import type { ConsoleGate } from './console-gate.ts';
import type { GetTarget, LanPeer } from './lan-peer.ts';
import type { LanCommand } from './line-commands.ts';
import {
  getFailedLine,
  getRejectedLine,
  gotLine,
  NO_OFFERS_LINE,
  offeredLine,
  offerListLine,
} from './messages.ts';
import type { HeardOffer } from './offer-table.ts';

export class LanActions {
  constructor(
    private readonly peer: LanPeer,
    private readonly console: ConsoleGate,
    /** --dir as the user typed it, for the result lines. */
    private readonly folderTyped: string,
  ) {}

  /** Runs one command; false for QUIT. Throws on failure (see failureLine). */
  async run(command: LanCommand): Promise<boolean> {
    switch (command.type) {
      case 'MSG':
        await this.peer.say(command.text);
        return true;
      case 'GET':
        await this.get(command);
        return true;
      case 'GET_OFFER':
        await this.get({ ...this.heardOffer(command.id), password: command.password });
        return true;
      case 'OFFER':
        await this.offer(command.file, command.password);
        return true;
      case 'OFFERS':
        this.listOffers();
        return true;
      case 'QUIT':
        return false;
    }
  }

  async offer(file: string, password: string): Promise<void> {
    this.console.stdout(offeredLine(await this.peer.offer(file, password)));
  }

  offersHeard(): HeardOffer[] {
    return this.peer.offersHeard();
  }

  listOffers(): void {
    const offers = this.peer.offersHeard();
    if (offers.length === 0) this.console.stdout(NO_OFFERS_LINE);
    for (const offer of offers) this.console.stdout(offerListLine(offer));
  }

  async get(target: GetTarget): Promise<void> {
    const result = await this.peer.get(target);
    this.console.stdout(gotLine(target.file, result.size, this.folderTyped));
  }

  heardOffer(id: number): HeardOffer {
    const offer = this.peer.offerById(id);
    if (!offer) throw new NapError('BAD_ARGUMENT', `No offer numbered ${id}; OFFERS lists the offers heard.`);
    return offer;
  }
}

/** Error codes of a file server's refusal (wrong password, no such file, busy). */
const REFUSALS = new Set(['REJECTED', 'NOT_FOUND', 'BUSY']);

/** The stderr line for a failed command: GET failures say whether the file server refused. */
export function failureLine(command: LanCommand['type'] | undefined, error: unknown): string {
  if (command !== 'GET' && command !== 'GET_OFFER') return describeError(error);
  const refused = isNapError(error) && REFUSALS.has(error.code);
  return refused ? getRejectedLine(describeError(error)) : getFailedLine(describeError(error));
}
