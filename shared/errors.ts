/**
 * Errors with a stable `code`. Code branches on `code`, never on message text; the message is one
 * clear sentence meant for a person.
 */
export type ErrorCode =
  // Index protocol (docs/protocol.md, "Index protocol").
  | 'BAD_REQUEST'
  | 'NOT_JOINED'
  | 'LINE_TOO_LONG'
  | 'UNSAFE_NAME'
  | 'SERVER_FULL'
  // Connection limits every TCP server applies (io/connection-guard.ts) and chat flood control.
  | 'SERVER_BUSY'
  | 'TOO_MANY_CONNECTIONS'
  | 'IDLE_TIMEOUT'
  | 'LINE_TIMEOUT'
  | 'RATE_LIMITED'
  // Index protocol: what the index refuses to believe or to hold (docs/protocol.md).
  | 'BAD_ADDRESS'
  | 'ADDRESS_MISMATCH'
  | 'ALIAS_TAKEN'
  | 'TOO_MANY_FILES'
  | 'TOO_MANY_NAME_BYTES'
  | 'INDEX_FULL'
  // The index server's shared store (Redis, `--store`) cannot be reached: try again shortly.
  | 'STORE_UNAVAILABLE'
  // Transfer protocol and the downloader.
  | 'NOT_FOUND'
  | 'BUSY'
  | 'BAD_RANGE'
  | 'REJECTED'
  | 'TRUNCATED'
  | 'INTEGRITY'
  | 'EXISTS'
  | 'CHANGED'
  // The user stopped a download (the web page's Cancel); its verified pieces are kept.
  | 'CANCELLED'
  // The downloader's own folder (docs/reference.md, "Downloads").
  | 'IN_PROGRESS'
  | 'DISK_FULL'
  | 'PERMISSION_DENIED'
  | 'READ_ONLY'
  | 'FOLDER_GONE'
  // Local, user-facing problems.
  | 'BAD_ARGUMENT'
  | 'NO_SEARCH'
  | 'NOT_A_FOLDER'
  | 'ADDRESS_IN_USE'
  | 'CONNECT_FAILED'
  | 'CONNECTION_CLOSED'
  | 'TIMEOUT'
  | 'PROTOCOL'
  | 'IO';

export class NapError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NapError';
    this.code = code;
  }
}

export function isNapError(err: unknown, code?: ErrorCode): err is NapError {
  return err instanceof NapError && (code === undefined || err.code === code);
}

/** A one-sentence description of any thrown value, for stderr. */
export function describeError(err: unknown): string {
  if (err instanceof NapError) return err.message;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // A bad command-line argument: the sentence is enough, the way out is --help.
    if (code?.startsWith('ERR_PARSE_ARGS')) return `${err.message.replace(/\.$/, '')}; see --help.`;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

/**
 * Turns a parser that throws into a prompt validator: true when `parse` accepts the text, else the
 * sentence saying why (shown under the prompt).
 */
export function validatorOf(parse: (text: string) => unknown): (text: string) => true | string {
  return (text) => {
    try {
      parse(text);
      return true;
    } catch (error) {
      return describeError(error);
    }
  };
}

/** Ctrl+C (or Ctrl+D) at an interactive prompt: a normal way to quit, not a failure. */
export function isPromptExit(error: unknown): boolean {
  return error instanceof Error && error.name === 'ExitPromptError';
}
