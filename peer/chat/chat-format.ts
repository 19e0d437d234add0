/**
 * What the chat peer prints on stdout (seed 002's client output): relayed messages exactly as
 * `alias: text`, departures, and the answers to its commands. Pure. No line but a relayed message
 * starts with a single word followed by ": ", so a script can tell messages from the rest.
 */
import type { FileHolder, MemberPush, PeerSummary } from '../../shared/index-protocol.ts';

/** A relayed message (seed 002: `tina: hi`). */
export function chatLine(alias: string, text: string): string {
  return `${alias}: ${text}`;
}

/** A pushed message as one stdout line. */
export function pushLine(push: MemberPush): string {
  if (push.type === 'CHAT') return chatLine(push.alias, push.text);
  const how = push.reason === 'timeout' ? 'timed out' : 'left';
  return push.alias === undefined ? `* ${push.address} ${how}` : `* ${push.alias} ${how} (${push.address})`;
}

/** `/showall` (seed 002 showAllTo: `alias -> address` between dashes), with file counts. */
export function showAllLines(peers: readonly PeerSummary[], self: string): string[] {
  const rows = peers.map((peer) => {
    const you = peer.address === self ? ' (you)' : '';
    return `${peer.alias ?? '(no alias)'} -> ${peer.address} (${count(peer.fileCount, 'file')})${you}`;
  });
  return ['-----', 'Online Users:', ...rows, '-----'];
}

/** `/query FILE` (seed 002 queryFile: `address | alias => file`). */
export function queryLines(file: string, holders: readonly FileHolder[]): string[] {
  if (holders.length === 0) return [`No peer shares ${file}.`];
  return holders.map((holder) =>
    holder.alias === undefined
      ? `${holder.address} => ${file}`
      : `${holder.address} | ${holder.alias} => ${file}`,
  );
}

export function nickLine(alias: string): string {
  return `Nick changed to ${alias}`;
}

/** `/register`: who this peer is registered as, at which address, with which files. */
export function registeredLine(alias: string, address: string, files: readonly string[]): string {
  const list = files.length === 0 ? '' : `: ${files.join(' ')}`;
  return `Registered as ${alias} at ${address} with ${count(files.length, 'file')}${list}`;
}

export function sharingLine(files: readonly string[]): string {
  const list = files.length === 0 ? '' : `: ${files.join(' ')}`;
  return `Sharing ${count(files.length, 'file')}${list}`;
}

/** `/fetch` done (seed 002: "File Downloaded!"); `folder` as the user typed it. */
export function fetchedLine(file: string, size: number, folder: string): string {
  return `File Downloaded! ${file} (${count(size, 'byte')}) saved in ${folder}`;
}

/** stderr, once joined: tests and scripts read the bound address from it. */
export function joinedNotice(server: string, alias: string, fileCount: number, address: string): string {
  return `Joined the index server at ${server} as ${alias}, serving ${count(fileCount, 'file')} at ${address}.`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
