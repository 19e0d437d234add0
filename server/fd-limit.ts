/**
 * The index server's connection cap against the process's file-descriptor limit: each connection
 * is a descriptor, and past the limit the kernel refuses the accept (EMFILE) and the newcomer is
 * lost without a word. A cap below the limit turns that into SERVER_BUSY, which a client can read.
 */
import { readFileSync } from 'node:fs';

/**
 * Descriptors kept for everything but clients' connections: stdin/out/err, the listening
 * sockets, the metrics endpoint's scrapers (16), refused clients reading their line, and the
 * files Node and its loader hold open.
 */
export const FD_RESERVE = 128;

/** The soft limit on open files from /proc/self/limits' text; undefined when unlimited or absent. */
export function parseOpenFilesLimit(limits: string): number | undefined {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
  if (match === null || match[1] === 'unlimited') return undefined;
  return Number(match[1]);
}

/** This process's limit on open files (Node raises its soft limit to the hard one at start). */
export function openFilesLimit(): number | undefined {
  try {
    return parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    // Not Linux: no limit known, the cap stays as given.
    return undefined;
  }
}

export interface ConnectionCap {
  maxConnections: number;
  /** One sentence for stderr when the cap given cannot be served (undefined: nothing to say). */
  warning?: string;
  /** One sentence for the verbose log when the default was lowered to fit the limit. */
  note?: string;
}

/**
 * The cap to serve with: the one given (`requested`), or the default lowered to fit `fdLimit`
 * less FD_RESERVE. A cap given above what the limit allows is kept, with a warning saying what
 * to do, since the operator may raise the limit of a running system in other ways.
 */
export function connectionCap(
  fdLimit: number | undefined,
  defaultCap: number,
  requested?: number,
): ConnectionCap {
  const fits = fdLimit === undefined ? Number.POSITIVE_INFINITY : Math.max(1, fdLimit - FD_RESERVE);
  if (requested !== undefined) {
    if (requested <= fits) return { maxConnections: requested };
    return {
      maxConnections: requested,
      warning:
        `--max-connections ${requested} needs about ${requested + FD_RESERVE} file descriptors but this ` +
        `process may open ${fdLimit}: raise the limit (ulimit -n ${requested + FD_RESERVE}) or lower ` +
        `--max-connections to ${fits}, or newcomers past the limit are dropped without a reply.`,
    };
  }
  if (defaultCap <= fits) return { maxConnections: defaultCap };
  return {
    maxConnections: fits,
    note:
      `at most ${fits} connections (not ${defaultCap}): this process may open ${fdLimit} files; ` +
      `raise ulimit -n to ${defaultCap + FD_RESERVE} for the full default`,
  };
}
