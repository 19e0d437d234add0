import { describe, expect, it } from 'vitest';
import { encodeLine } from '../../shared/json-line.ts';
import { choosePieceSize, MAX_PIECE_BYTES } from '../../shared/pieces.ts';
import {
  decodeAuthResponse,
  decodeTransferReply,
  decodeTransferRequest,
  MAX_PREFIXES_PER_LINE,
  MAX_STREAMED_PIECES,
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

  it('golden bytes of the replies a downloader reads', () => {
    expect(encodeLine({ type: 'DOWNLOAD_OK', size: 5 })).toBe('{"type":"DOWNLOAD_OK","size":5}\n');
    expect(
      encodeLine({
        type: 'DOWNLOAD_REJECTED',
        reason: 'BUSY',
        message: 'Already 8 uploads in progress; try again later.',
      }),
    ).toBe(
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

describe('streamed INFO', () => {
  it('a downloader asks with prefixes: true; only true is accepted', () => {
    expect(decodeTransferRequest('{"type":"INFO","file":"a.mp4","prefixes":true}')).toEqual({
      type: 'INFO',
      file: 'a.mp4',
      prefixes: true,
    });
    expect(codeOf(() => decodeTransferRequest('{"type":"INFO","file":"a.mp4","prefixes":"yes"}'))).toBe(
      'BAD_REQUEST',
    );
    expect(codeOf(() => decodeTransferRequest('{"type":"INFO","file":"a.mp4","prefixes":false}'))).toBe(
      'BAD_REQUEST',
    );
  });

  it('golden bytes of the request and of the three reply lines', () => {
    // The 47 bytes of docs/protocol.md's dump.
    expect(Buffer.from(encodeLine({ type: 'INFO', file: 'a.mp4', prefixes: true })).toString('hex')).toBe(
      '7b2274797065223a22494e464f222c2266696c65223a22612e6d7034222c227072656669786573223a747275657d0a',
    );
    const head =
      '{"type":"INFO_HEAD","size":10485760,"pieceSize":4194304,"version":"10485760-1733079012345678901-5242881"}';
    expect(decodeTransferReply(head)).toEqual({
      type: 'INFO_HEAD',
      size: 10485760,
      pieceSize: 4194304,
      version: '10485760-1733079012345678901-5242881',
    });
    expect(encodeLine(decodeTransferReply(head))).toBe(`${head}\n`);
    const prefixes = `{"type":"PREFIXES","first":0,"hashes":["${HASH}","${HASH}"]}`;
    expect(decodeTransferReply(prefixes)).toEqual({ type: 'PREFIXES', first: 0, hashes: [HASH, HASH] });
    expect(encodeLine(decodeTransferReply(prefixes))).toBe(`${prefixes}\n`);
    const end = `{"type":"INFO_END","sha256":"${HASH}"}`;
    expect(decodeTransferReply(end)).toEqual({ type: 'INFO_END', sha256: HASH });
    expect(encodeLine(decodeTransferReply(end))).toBe(`${end}\n`);
  });

  it.each([
    [
      'INFO_HEAD pieces past MAX_PIECE_BYTES',
      `{"type":"INFO_HEAD","size":1,"pieceSize":${MAX_PIECE_BYTES + 1}}`,
    ],
    ['INFO_HEAD pieces of zero bytes', '{"type":"INFO_HEAD","size":0,"pieceSize":0}'],
    [
      'INFO_HEAD announcing more pieces than an INFO_OK could list',
      `{"type":"INFO_HEAD","size":${MAX_STREAMED_PIECES + 1},"pieceSize":1}`,
    ],
    ['INFO_HEAD with a bad version', '{"type":"INFO_HEAD","size":1,"pieceSize":1,"version":"a b"}'],
    ['PREFIXES with no hash', '{"type":"PREFIXES","first":0,"hashes":[]}'],
    [
      'PREFIXES with too many hashes for a line',
      `{"type":"PREFIXES","first":0,"hashes":${JSON.stringify(Array(MAX_PREFIXES_PER_LINE + 1).fill(HASH))}}`,
    ],
    ['PREFIXES with an upper-case hash', `{"type":"PREFIXES","first":0,"hashes":["${HASH.toUpperCase()}"]}`],
    ['PREFIXES without first', `{"type":"PREFIXES","hashes":["${HASH}"]}`],
    ['INFO_END with a short hash', '{"type":"INFO_END","sha256":"abcd"}'],
  ])('refuses %s', (_what, line) => {
    expect(() => decodeTransferReply(line)).toThrow(/field/);
  });

  it('an INFO_HEAD of the most pieces allowed is decoded', () => {
    expect(decodeTransferReply(`{"type":"INFO_HEAD","size":${MAX_STREAMED_PIECES},"pieceSize":1}`)).toEqual({
      type: 'INFO_HEAD',
      size: MAX_STREAMED_PIECES,
      pieceSize: 1,
    });
  });
});
