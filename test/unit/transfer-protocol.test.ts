import { describe, expect, it } from 'vitest';
import { encodeLine } from '../../shared/json-line.ts';
import { choosePieceSize, MAX_PIECE_BYTES } from '../../shared/pieces.ts';
import {
  decodeAuthResponse,
  decodeTransferReply,
  decodeTransferRequest,
  rejection,
  rejectionError,
} from '../../shared/transfer-protocol.ts';
import { errorCode } from '../helpers/error-code.ts';

const HASH = 'ab'.repeat(32);

const codeOf = errorCode;

describe('transfer protocol requests', () => {
  it('decodes DOWNLOAD (with and without a range), INFO and LIST', () => {
    expect(decodeTransferRequest('{"type":"DOWNLOAD","file":"a.mp4"}')).toEqual({
      type: 'DOWNLOAD',
      file: 'a.mp4',
    });
    expect(decodeTransferRequest('{"type":"DOWNLOAD","file":"a.mp4","offset":8,"length":4}')).toEqual({
      type: 'DOWNLOAD',
      file: 'a.mp4',
      offset: 8,
      length: 4,
    });
    expect(decodeTransferRequest('{"type":"INFO","file":"a.mp4"}')).toEqual({ type: 'INFO', file: 'a.mp4' });
    expect(decodeTransferRequest('{"type":"LIST"}')).toEqual({ type: 'LIST' });
    expect(decodeTransferRequest('{"type":"LIST","keyword":"redes"}')).toEqual({
      type: 'LIST',
      keyword: 'redes',
    });
  });

  it('encodes refusals as the golden bytes of docs/protocol.md', () => {
    // Written out from the documented lines, never from napshare's encoder.
    expect(encodeLine(rejection('NOT_FOUND', 'No shared file named "x.mp4".'))).toBe(
      '{"type":"DOWNLOAD_REJECTED","reason":"NOT_FOUND","message":"No shared file named \\"x.mp4\\"."}\n',
    );
    expect(encodeLine(rejection('BUSY', 'Already 8 uploads in progress; try again later.'))).toBe(
      '{"type":"DOWNLOAD_REJECTED","reason":"BUSY","message":"Already 8 uploads in progress; try again later."}\n',
    );
  });

  it.each([
    ['{"type":"DOWNLOAD","file":"../x"}', 'UNSAFE_NAME'],
    ['{"type":"DOWNLOAD","file":"a","offset":-1}', 'BAD_REQUEST'],
    ['{"type":"DOWNLOAD","file":"a","offset":1.5}', 'BAD_REQUEST'],
    ['{"type":"DOWNLOAD","file":"a","length":"4"}', 'BAD_REQUEST'],
    ['{"type":"DOWNLOAD","file":"a","offset":9007199254740993}', 'BAD_REQUEST'],
    ['{"type":"INFO"}', 'BAD_REQUEST'],
    ['{"type":"LIST","keyword":""}', 'BAD_REQUEST'],
    [`{"type":"LIST","keyword":"${'k'.repeat(256)}"}`, 'BAD_REQUEST'],
    ['{"type":"UPLOAD","file":"a"}', 'BAD_REQUEST'],
  ])('refuses %s with %s', (line, code) => {
    expect(codeOf(() => decodeTransferRequest(line))).toBe(code);
  });

  it('AUTH carries exactly 64 lower-case hex digits', () => {
    expect(decodeAuthResponse(`{"type":"AUTH","proof":"${HASH}"}`)).toEqual({ type: 'AUTH', proof: HASH });
    expect(codeOf(() => decodeAuthResponse('{"type":"AUTH","proof":"ABCD"}'))).toBe('BAD_REQUEST');
  });
});

describe('transfer protocol replies', () => {
  it('decodes INFO_OK whose pieces match its size', () => {
    const line = `{"type":"INFO_OK","size":5,"sha256":"${HASH}","pieceSize":4,"pieces":["${HASH}","${HASH}"]}`;
    expect(decodeTransferReply(line)).toEqual({
      type: 'INFO_OK',
      size: 5,
      sha256: HASH,
      pieceSize: 4,
      pieces: [HASH, HASH],
    });
  });

  it.each([
    ['one hash too few', `{"type":"INFO_OK","size":5,"sha256":"${HASH}","pieceSize":4,"pieces":["${HASH}"]}`],
    ['a bad hash', `{"type":"INFO_OK","size":1,"sha256":"${HASH}","pieceSize":4,"pieces":["xyz"]}`],
    ['pieces of zero bytes', `{"type":"INFO_OK","size":0,"sha256":"${HASH}","pieceSize":0,"pieces":[]}`],
    // A hostile source must not make the downloader allocate huge piece buffers.
    [
      'pieces past MAX_PIECE_BYTES',
      `{"type":"INFO_OK","size":1,"sha256":"${HASH}","pieceSize":${MAX_PIECE_BYTES + 1},"pieces":["${HASH}"]}`,
    ],
  ])('refuses INFO_OK with %s', (_what, line) => {
    expect(() => decodeTransferReply(line)).toThrow(/INFO_OK: field/);
  });

  it('rejections keep BUSY and NOT_FOUND as their own codes', () => {
    expect(rejectionError('peer x', 'f', { type: 'DOWNLOAD_REJECTED', reason: 'BUSY' }).code).toBe('BUSY');
    expect(
      rejectionError('peer x', 'f', { type: 'DOWNLOAD_REJECTED', reason: 'NOT_FOUND', message: 'No.' })
        .message,
    ).toBe('The peer x refused f: NOT_FOUND (No).');
    expect(rejectionError('peer x', 'f', { type: 'DOWNLOAD_REJECTED', reason: 'AUTH_FAILED' }).code).toBe(
      'REJECTED',
    );
  });

  it('piece sizes never pass MAX_PIECE_BYTES, whatever the file size', () => {
    expect(choosePieceSize(100 * 1024 ** 4)).toBe(MAX_PIECE_BYTES);
  });
});
