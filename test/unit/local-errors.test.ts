/** The sentence and code of each file-system failure of a download's folder (peer/transfer/local-errors.ts). */
import { describe, expect, it } from 'vitest';
import { isFolderError } from '../../peer/downloader.ts';
import { localFailure } from '../../peer/transfer/local-errors.ts';
import { NapError } from '../../shared/errors.ts';

const errno = (code: string) =>
  Object.assign(new Error(`${code}: something, write`), { code, syscall: 'write' });
const KEPT = '2 of 5 pieces of a.bin are kept in a.bin.part';

describe('localFailure', () => {
  it.each([
    ['ENOSPC', 'DISK_FULL', `The disk is full: ${KEPT}; free some space and DOWNLOAD again to resume.`],
    [
      'EDQUOT',
      'DISK_FULL',
      `The disk quota is used up: ${KEPT}; free some space and DOWNLOAD again to resume.`,
    ],
    [
      'EACCES',
      'PERMISSION_DENIED',
      `napshare may not write in the folder /d (permission denied): ${KEPT}; allow it to write there, or JOIN with another folder, and DOWNLOAD again.`,
    ],
    [
      'EPERM',
      'PERMISSION_DENIED',
      `napshare may not write in the folder /d (permission denied): ${KEPT}; allow it to write there, or JOIN with another folder, and DOWNLOAD again.`,
    ],
    [
      'EROFS',
      'READ_ONLY',
      `The folder /d is on a read-only file system: ${KEPT}; JOIN with a folder that can be written to and DOWNLOAD again.`,
    ],
    [
      'ENOENT',
      'FOLDER_GONE',
      `The folder /d is gone (removed during the download): ${KEPT}; JOIN with an existing folder and DOWNLOAD again.`,
    ],
    [
      'ENOTDIR',
      'FOLDER_GONE',
      `The folder /d is no longer a folder: ${KEPT}; JOIN with an existing folder and DOWNLOAD again.`,
    ],
  ])('%s -> %s, one sentence', (code, napCode, message) => {
    const failure = localFailure(errno(code), '/d', KEPT);
    expect(failure).toBeInstanceOf(NapError);
    expect(failure).toMatchObject({ code: napCode, message });
  });

  it('leaves every other error alone: other errno codes, NapErrors, non-errors', () => {
    expect(localFailure(errno('ECONNRESET'), '/d', KEPT)).toBeUndefined();
    expect(localFailure(errno('EIO'), '/d', KEPT)).toBeUndefined();
    expect(localFailure(new NapError('TRUNCATED', 'cut'), '/d', KEPT)).toBeUndefined();
    expect(
      localFailure(Object.assign(new NapError('IO', 'x'), { code: 'ENOSPC' }), '/d', KEPT),
    ).toBeUndefined();
    expect(localFailure('ENOSPC', '/d', KEPT)).toBeUndefined();
    expect(localFailure(undefined, '/d', KEPT)).toBeUndefined();
  });
});

describe('isFolderError (the DHT mode tries the next holder only after an error of the holder)', () => {
  it.each(['EXISTS', 'IN_PROGRESS', 'DISK_FULL', 'PERMISSION_DENIED', 'READ_ONLY', 'FOLDER_GONE'] as const)(
    '%s is the folder’s: no other holder can help',
    (code) => {
      expect(isFolderError(new NapError(code, 'x'))).toBe(true);
    },
  );
  it.each(['CONNECT_FAILED', 'INTEGRITY', 'PROTOCOL', 'TIMEOUT', 'NOT_FOUND', 'CHANGED'] as const)(
    '%s is the holder’s: the next one is tried',
    (code) => {
      expect(isFolderError(new NapError(code, 'x'))).toBe(false);
    },
  );
});
