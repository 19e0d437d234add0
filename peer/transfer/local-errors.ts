/**
 * Failures of the downloader's own folder (a full disk, no permission, a read-only file system,
 * the folder removed), as one sentence with a stable code that says what is kept and what to do.
 * Pure: it only reads the errno code of the error the file system gave.
 */
import { type ErrorCode, NapError } from '../../shared/errors.ts';

interface LocalProblem {
  code: ErrorCode;
  /** The start of the sentence: what went wrong, for `folder`. */
  problem: (folder: string) => string;
  /** The end of the sentence: what the user can do. */
  advice: string;
}

const FULL: LocalProblem = {
  code: 'DISK_FULL',
  problem: () => 'The disk is full',
  advice: 'free some space and DOWNLOAD again to resume',
};
const DENIED: LocalProblem = {
  code: 'PERMISSION_DENIED',
  problem: (folder) => `napshare may not write in the folder ${folder} (permission denied)`,
  advice: 'allow it to write there, or JOIN with another folder, and DOWNLOAD again',
};

/** errno codes of the file system -> what they mean for a download. */
const PROBLEMS: Partial<Record<string, LocalProblem>> = {
  ENOSPC: FULL,
  EDQUOT: { ...FULL, problem: () => 'The disk quota is used up' },
  EACCES: DENIED,
  EPERM: DENIED,
  EROFS: {
    code: 'READ_ONLY',
    problem: (folder) => `The folder ${folder} is on a read-only file system`,
    advice: 'JOIN with a folder that can be written to and DOWNLOAD again',
  },
  // The folder (or a parent) was removed or replaced by a file while the download ran.
  ENOENT: {
    code: 'FOLDER_GONE',
    problem: (folder) => `The folder ${folder} is gone (removed during the download)`,
    advice: 'JOIN with an existing folder and DOWNLOAD again',
  },
  ENOTDIR: {
    code: 'FOLDER_GONE',
    problem: (folder) => `The folder ${folder} is no longer a folder`,
    advice: 'JOIN with an existing folder and DOWNLOAD again',
  },
};

/** The errno code of a file-system error, if `error` is one of those napshare explains. */
export function localErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || error instanceof NapError) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && Object.hasOwn(PROBLEMS, code) ? code : undefined;
}

export function isLocalError(error: unknown): boolean {
  return localErrorCode(error) !== undefined;
}

/**
 * The sentence for a file-system `error` of a download into `folder`; `kept` says what stays
 * (e.g. "3 of 24 pieces of a.mp4 are kept in a.mp4.part"). Undefined for other errors.
 */
export function localFailure(error: unknown, folder: string, kept: string): NapError | undefined {
  const errno = localErrorCode(error);
  const problem = errno === undefined ? undefined : PROBLEMS[errno];
  if (problem === undefined) return undefined;
  return new NapError(problem.code, `${problem.problem(folder)}: ${kept}; ${problem.advice}.`, {
    cause: error,
  });
}
