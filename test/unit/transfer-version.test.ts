/** The transfer codec's `version` (INFO_OK, DOWNLOAD) and the CHANGED refusal (docs/protocol.md). */
import { describe, expect, it } from 'vitest';
import { encodeLine } from '../../shared/json-line.ts';
import {
  decodeTransferReply,
  decodeTransferRequest,
  rejectionError,
} from '../../shared/transfer-protocol.ts';
import { errorCode } from '../helpers/error-code.ts';

const HASH = 'ab'.repeat(32);

describe('version', () => {
  it('rides on DOWNLOAD and INFO_OK, golden bytes', () => {
    const line =
      '{"type":"DOWNLOAD","file":"a.mp4","offset":4,"length":6,"version":"10-1733079012345678901-77"}';
    expect(decodeTransferRequest(line)).toEqual({
      type: 'DOWNLOAD',
      file: 'a.mp4',
      offset: 4,
      length: 6,
      version: '10-1733079012345678901-77',
    });
    expect(
      encodeLine({
        type: 'DOWNLOAD',
        file: 'a.mp4',
        offset: 4,
        length: 6,
        version: '10-1733079012345678901-77',
      }),
    ).toBe(`${line}\n`);
    expect(
      decodeTransferReply(
        `{"type":"INFO_OK","size":10,"sha256":"${HASH}","pieceSize":4194304,"pieces":["${HASH}"],"version":"10-1-2"}`,
      ),
    ).toEqual({
      type: 'INFO_OK',
      size: 10,
      sha256: HASH,
      pieceSize: 4194304,
      pieces: [HASH],
      version: '10-1-2',
    });
    // Optional: the messages of other implementations stay valid.
    expect(decodeTransferRequest('{"type":"DOWNLOAD","file":"a.mp4"}')).toEqual({
      type: 'DOWNLOAD',
      file: 'a.mp4',
    });
  });

  it.each([
    ['empty', '""'],
    ['a space', '"1 2"'],
    ['a control character', '"1\\u001b2"'],
    ['non-ASCII', '"é"'],
    ['65 characters', JSON.stringify('v'.repeat(65))],
    ['a number', '12'],
  ])('is refused when %s', (_what, version) => {
    expect(
      errorCode(() => decodeTransferRequest(`{"type":"DOWNLOAD","file":"a.mp4","version":${version}}`)),
    ).toBe('BAD_REQUEST');
    expect(
      errorCode(() =>
        decodeTransferReply(
          `{"type":"INFO_OK","size":1,"sha256":"${HASH}","pieceSize":1,"pieces":["${HASH}"],"version":${version}}`,
        ),
      ),
    ).toBe('BAD_REQUEST');
  });

  it('a CHANGED refusal keeps its own code (the downloader asks INFO again), other reasons theirs', () => {
    const reply = (reason: string) => ({ type: 'DOWNLOAD_REJECTED' as const, reason });
    expect(rejectionError('peer x', 'a.mp4', reply('CHANGED')).code).toBe('CHANGED');
    expect(rejectionError('peer x', 'a.mp4', reply('BUSY')).code).toBe('BUSY');
    expect(rejectionError('peer x', 'a.mp4', reply('NOT_FOUND')).code).toBe('NOT_FOUND');
    expect(rejectionError('peer x', 'a.mp4', reply('BAD_REQUEST')).code).toBe('PROTOCOL');
    expect(rejectionError('peer x', 'a.mp4', reply('AUTH_FAILED')).code).toBe('REJECTED');
    // A reason that happens to be an Object.prototype name is just another reason.
    expect(rejectionError('peer x', 'a.mp4', reply('constructor')).code).toBe('REJECTED');
  });
});
