/**
 * Every line the LAN mode prints, in one place. stdout: chat lines (seed 001, I: "132.227.64.88
 * :> coucou !") and the results of commands; stderr: notices, errors and prompts.
 */
import { formatAddress } from '../../shared/address.ts';
import { escapeTerminalText } from '../../shared/terminal-text.ts';
import { formatBytes } from '../../shared/units.ts';
import type { OfferAnnouncement } from './datagram.ts';
import type { HeardOffer } from './offer-table.ts';

// What other members sent is escaped here (terminal-text.ts), whichever way the line is printed;
// the console gate escapes every line again, which leaves escaped text as it is.

/** stdout, a message from another member (seed 001, I). */
export function chatLine(fromIp: string, text: string): string {
  return `${fromIp} :> ${escapeTerminalText(text)}`;
}

function describeOffer(offer: OfferAnnouncement): string {
  return `${escapeTerminalText(offer.file)} (${formatBytes(offer.size)}) at ${formatAddress(offer.ip, offer.port)}, password needed`;
}

/** stdout, one line per offer listed by OFFERS. */
export function offerListLine(offer: HeardOffer): string {
  return `${offer.id}. ${describeOffer(offer)}`;
}

/** stdout, OFFERS when the table is empty. */
export const NO_OFFERS_LINE = 'No offers heard yet.';

/** stderr, an offer heard for the first time. */
export function offerHeardNotice(offer: HeardOffer): string {
  return `Offer ${offer.id}: ${describeOffer(offer)} (GET ${offer.id} password)`;
}

/**
 * Offer notices printed a second at most: a member joining a busy group hears dozens at once, a
 * flood thousands; the rest are told in one line (offersNotShownNotice) and OFFERS lists them.
 */
export const OFFER_NOTICES_PER_SECOND = 20;

/** stderr, once a second at most: offers heard past OFFER_NOTICES_PER_SECOND. */
export function offersNotShownNotice(count: number): string {
  return `${count} more ${count === 1 ? 'offer' : 'offers'} heard, not shown one by one (OFFERS lists the offers kept).`;
}

/** stdout, after OFFER. */
export function offeredLine(offer: OfferAnnouncement): string {
  return `Offering ${describeOffer(offer)}`;
}

/** stdout, after a GET that completed. */
export function gotLine(file: string, size: number, folder: string): string {
  return `Got ${file} (${formatBytes(size)}) into ${folder}`;
}

/** stderr, a GET the file server refused (wrong password, no such file, busy). */
export function getRejectedLine(reason: string): string {
  return `GET rejected: ${reason}`;
}

/** stderr, a GET that failed otherwise (unreachable, interrupted, file already there). */
export function getFailedLine(reason: string): string {
  return `GET failed: ${reason}`;
}

/** stderr, once the member is in the group (tests and scripts read the ports from it). */
export function readyNotice(group: string, iface: string, fileServer: string, sender: string): string {
  return `LAN member of ${group} on ${iface}: files served at ${fileServer}, messages sent from ${sender}`;
}
