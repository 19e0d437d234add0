/**
 * Seed 002's chat for the web page, on the peer's own index session: whether the server offers
 * it, the alias, the lines said and heard (pushed CHAT and PEER_LEFT), the online peers and "who
 * has this file?". The lines kept are bounded; each new one is handed to `onLine` for the pages.
 */
import { CAP_INFO, hasCap } from '../../shared/capabilities.ts';
import { type ErrorCode, isNapError, NapError } from '../../shared/errors.ts';
import { assertSafeFileName } from '../../shared/file-names.ts';
import { assertAlias, chatTextProblem, type MemberPush } from '../../shared/index-protocol.ts';
import type { IndexClient } from '../index-client.ts';
import type { PeerSession } from '../session.ts';

/** Chat lines kept for a page that opens later: the newest. */
export const MAX_CHAT_LINES = 200;

export type ChatLine =
  | { at: number; kind: 'message'; alias: string; from: string; text: string; own: boolean }
  | { at: number; kind: 'left'; alias: string | null; address: string; reason: string };

/** The chat part of the page's state. `offered`: null until a JOIN tells (or when it could not). */
export interface ChatState {
  offered: boolean | null;
  alias: string | null;
  lines: ChatLine[];
}

/** Failures that say the index server cannot be reached now, not what it can do. */
const UNREACHABLE: ReadonlySet<ErrorCode> = new Set(['CONNECT_FAILED', 'CONNECTION_CLOSED', 'TIMEOUT']);

export class WebChat {
  private offered: boolean | null = null;
  private alias: string | null = null;
  private readonly lines: ChatLine[] = [];

  constructor(
    private readonly session: PeerSession,
    /** This peer's announced `IP:port`, once joined. */
    private readonly ownAddress: () => string | undefined,
    private readonly onLine: (line: ChatLine) => void,
  ) {}

  get state(): ChatState {
    return { offered: this.offered, alias: this.alias, lines: [...this.lines] };
  }

  /**
   * After a JOIN (which carries no alias): whether the index server has seed 002's requests, by
   * a LIST answered with LIST_OK. A server of another implementation answers ERROR (or something
   * else); one unreachable right now tells nothing.
   */
  async joined(): Promise<void> {
    this.alias = null;
    try {
      await (await this.session.indexClient()).list();
      this.offered = true;
    } catch (error) {
      this.offered = isNapError(error) && UNREACHABLE.has(error.code) ? null : false;
    }
  }

  // ALIAS (seed 002 /setNick): makes this peer a chat member (it then gets the pushes).
  async setAlias(alias: string): Promise<string> {
    assertAlias(alias);
    await (await this.client()).setAlias(alias);
    this.alias = alias;
    return alias;
  }

  // CHAT (seed 002 sendToAll): to every other member; resolves with how many got it.
  async say(text: string): Promise<number> {
    const problem = chatTextProblem(text);
    if (problem) throw new NapError('BAD_REQUEST', `The message cannot be sent: ${problem}.`);
    const client = await this.client();
    if (this.alias === null) throw new NapError('BAD_REQUEST', 'Choose an alias before chatting.');
    const delivered = await client.chat(text);
    const from = this.ownAddress() ?? '';
    this.add({ at: Date.now(), kind: 'message', alias: this.alias, from, text, own: true });
    return delivered;
  }

  // LIST (seed 002 /showall): the online peers.
  async peers(): Promise<{ address: string; alias: string | null; fileCount: number; you: boolean }[]> {
    const own = this.ownAddress();
    return (await (await this.client()).list()).map((peer) => ({
      address: peer.address,
      alias: peer.alias ?? null,
      fileCount: peer.fileCount,
      you: peer.address === own,
    }));
  }

  // QUERY (seed 002 /query): who holds exactly `file`, with aliases.
  async query(
    file: string,
  ): Promise<{ file: string; holders: { address: string; alias: string | null; verified: boolean }[] }> {
    assertSafeFileName(file);
    const { peers, caps } = await (await this.client()).queryHolders(file);
    return {
      file,
      holders: peers.map((holder) => ({
        address: holder.address,
        alias: holder.alias ?? null,
        verified: hasCap(caps, holder.address, CAP_INFO),
      })),
    };
  }

  /** A message the index server pushed (only to members: peers with an alias). */
  onPush(push: MemberPush): void {
    const at = Date.now();
    if (push.type === 'CHAT')
      this.add({ at, kind: 'message', alias: push.alias, from: push.from, text: push.text, own: false });
    else
      this.add({ at, kind: 'left', alias: push.alias ?? null, address: push.address, reason: push.reason });
  }

  private add(line: ChatLine): void {
    this.lines.push(line);
    if (this.lines.length > MAX_CHAT_LINES) this.lines.shift();
    this.onLine(line);
  }

  private async client(): Promise<IndexClient> {
    if (!this.session.joined) throw new NapError('NOT_JOINED', 'JOIN first: the chat is for joined peers.');
    if (this.offered === false) throw new NapError('BAD_REQUEST', 'The index server does not offer chat.');
    return this.session.indexClient();
  }
}
