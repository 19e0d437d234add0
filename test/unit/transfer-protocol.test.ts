import { describe, expect, it } from 'vitest';
import { encodeLine } from '../../shared/json-line.ts';
import { choosePieceSize, MAX_PIECE_BYTES } from '../../shared/pieces.ts';
import {
  decodeAuthResponse,
  decodeTransferReply,
  decodeTransferRequest,
  MAX_PREFIXES_PER_LINE,
  MAX_STREAMED_PIECES,
  MAX_TRANSFER_REPLY_BYTES,
  MAX_TRANSFER_REQUEST_BYTES,
  rejection,
  rejectionError,
} from '../../shared/transfer-protocol.ts';
import { errorCode, refusalOf } from '../helpers/error-code.ts';

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

describe('transfer protocol: exact shapes and refusals', () => {
  it('adds offset, length and keyword only when they are given', () => {
    expect(decodeTransferRequest('{"type":"DOWNLOAD","file":"a"}')).toStrictEqual({
      type: 'DOWNLOAD',
      file: 'a',
    });
    expect(decodeTransferRequest('{"type":"DOWNLOAD","file":"a","offset":0}')).toStrictEqual({
      type: 'DOWNLOAD',
      file: 'a',
      offset: 0,
    });
    expect(decodeTransferRequest('{"type":"DOWNLOAD","file":"a","length":0}')).toStrictEqual({
      type: 'DOWNLOAD',
      file: 'a',
      length: 0,
    });
    expect(decodeTransferRequest('{"type":"LIST"}')).toStrictEqual({ type: 'LIST' });
  });

  it('takes a LIST keyword of up to 255 UTF-8 bytes', () => {
    const at = (keyword: string) =>
      refusalOf(() => decodeTransferRequest(JSON.stringify({ type: 'LIST', keyword })));
    expect(at('k'.repeat(255))).toBe('accepted');
    expect(at('é'.repeat(127))).toBe('accepted');
    const tooLong = 'BAD_REQUEST: LIST: field "keyword" must be a non-empty string of at most 255 bytes.';
    expect(at('é'.repeat(128))).toBe(tooLong);
    expect(at('')).toBe(tooLong);
  });

  it.each([
    ['{"type":"UPLOAD","file":"a"}', 'BAD_REQUEST: Unknown request type "UPLOAD".'],
    ['{"type":"INFO","file":7}', 'BAD_REQUEST: INFO: field "file" must be a string.'],
    [
      '{"type":"DOWNLOAD","file":"a","offset":-1}',
      'BAD_REQUEST: DOWNLOAD: field "offset" must be a non-negative integer.',
    ],
  ])('refuses the request %s', (line, sentence) => {
    expect(refusalOf(() => decodeTransferRequest(line))).toBe(sentence);
  });

  it.each([
    ['{"type":"INFO","file":"a"}', 'BAD_REQUEST: Expected an AUTH message.'],
    [
      `{"type":"AUTH","proof":"x${HASH}"}`,
      'BAD_REQUEST: AUTH: field "proof" must be 64 lower-case hex digits.',
    ],
    [
      `{"type":"AUTH","proof":"${HASH}x"}`,
      'BAD_REQUEST: AUTH: field "proof" must be 64 lower-case hex digits.',
    ],
    [
      `{"type":"AUTH","proof":"${HASH.toUpperCase()}"}`,
      'BAD_REQUEST: AUTH: field "proof" must be 64 lower-case hex digits.',
    ],
  ])('refuses the answer %s', (line, sentence) => {
    expect(refusalOf(() => decodeAuthResponse(line))).toBe(sentence);
  });

  it('decodes every reply a downloader reads, with optional fields only when sent', () => {
    expect(decodeTransferReply('{"type":"DOWNLOAD_OK","size":0}')).toStrictEqual({
      type: 'DOWNLOAD_OK',
      size: 0,
    });
    expect(decodeTransferReply('{"type":"DOWNLOAD_REJECTED","reason":"BUSY"}')).toStrictEqual({
      type: 'DOWNLOAD_REJECTED',
      reason: 'BUSY',
    });
    expect(
      decodeTransferReply('{"type":"DOWNLOAD_REJECTED","reason":"BUSY","message":"Later."}'),
    ).toStrictEqual({
      type: 'DOWNLOAD_REJECTED',
      reason: 'BUSY',
      message: 'Later.',
    });
    expect(decodeTransferReply('{"type":"LIST_OK","files":["a","b c"]}')).toStrictEqual({
      type: 'LIST_OK',
      files: ['a', 'b c'],
    });
    for (const nonce of ['ab'.repeat(16), 'cd'.repeat(64)])
      expect(decodeTransferReply(`{"type":"AUTH_CHALLENGE","nonce":"${nonce}"}`)).toStrictEqual({
        type: 'AUTH_CHALLENGE',
        nonce,
      });
  });

  it.each([
    [
      '{"type":"DOWNLOAD_OK","size":-1}',
      'BAD_REQUEST: DOWNLOAD_OK: field "size" must be a non-negative integer.',
    ],
    ['{"type":"DOWNLOAD_REJECTED"}', 'BAD_REQUEST: DOWNLOAD_REJECTED: field "reason" must be a string.'],
    [
      '{"type":"DOWNLOAD_REJECTED","reason":"X","message":1}',
      'BAD_REQUEST: DOWNLOAD_REJECTED: field "message" must be a string.',
    ],
    ['{"type":"LIST_OK","files":[1]}', 'BAD_REQUEST: LIST_OK: field "files" must be an array of strings.'],
    [
      `{"type":"AUTH_CHALLENGE","nonce":"${'a'.repeat(31)}"}`,
      'BAD_REQUEST: AUTH_CHALLENGE: field "nonce" must be 32 to 128 hex digits.',
    ],
    [
      `{"type":"AUTH_CHALLENGE","nonce":"${'a'.repeat(129)}"}`,
      'BAD_REQUEST: AUTH_CHALLENGE: field "nonce" must be 32 to 128 hex digits.',
    ],
    [
      `{"type":"AUTH_CHALLENGE","nonce":"z${'a'.repeat(40)}"}`,
      'BAD_REQUEST: AUTH_CHALLENGE: field "nonce" must be 32 to 128 hex digits.',
    ],
    [
      `{"type":"AUTH_CHALLENGE","nonce":"${'a'.repeat(40)}z"}`,
      'BAD_REQUEST: AUTH_CHALLENGE: field "nonce" must be 32 to 128 hex digits.',
    ],
    [
      `{"type":"AUTH_CHALLENGE","nonce":"${'A'.repeat(40)}"}`,
      'BAD_REQUEST: AUTH_CHALLENGE: field "nonce" must be 32 to 128 hex digits.',
    ],
    ['{"type":"HELLO"}', 'PROTOCOL: Unexpected reply type "HELLO" from the peer.'],
  ])('refuses the reply %s', (line, sentence) => {
    expect(refusalOf(() => decodeTransferReply(line))).toBe(sentence);
  });

  const info = (fields: Record<string, unknown>) =>
    JSON.stringify({ type: 'INFO_OK', size: 1, sha256: HASH, pieceSize: 4, pieces: [HASH], ...fields });

  it('takes piece sizes from 1 byte to MAX_PIECE_BYTES', () => {
    expect(
      refusalOf(() => decodeTransferReply(info({ size: 3, pieceSize: 1, pieces: [HASH, HASH, HASH] }))),
    ).toBe('accepted');
    expect(refusalOf(() => decodeTransferReply(info({ pieceSize: MAX_PIECE_BYTES })))).toBe('accepted');
    expect(refusalOf(() => decodeTransferReply(info({ size: 0, pieces: [] })))).toBe('accepted');
  });

  it.each([
    ['a whole-file hash with a prefix', { sha256: `0${HASH}` }, 'sha256', '64 lower-case hex digits'],
    ['a whole-file hash with a suffix', { sha256: `${HASH}0` }, 'sha256', '64 lower-case hex digits'],
    ['an upper-case hash', { sha256: HASH.toUpperCase() }, 'sha256', '64 lower-case hex digits'],
    ['pieces of 0 bytes', { pieceSize: 0 }, 'pieceSize', `an integer from 1 to ${MAX_PIECE_BYTES}`],
    [
      'pieces past the bound',
      { pieceSize: MAX_PIECE_BYTES + 1 },
      'pieceSize',
      `an integer from 1 to ${MAX_PIECE_BYTES}`,
    ],
    [
      'one bad piece hash among good ones',
      { size: 8, pieces: [HASH, 'x'] },
      'pieces',
      'one SHA-256 per piece of the file',
    ],
    ['a piece hash with a suffix', { pieces: [`${HASH}0`] }, 'pieces', 'one SHA-256 per piece of the file'],
    ['a hash too many', { pieces: [HASH, HASH] }, 'pieces', 'one SHA-256 per piece of the file'],
  ])('refuses INFO_OK with %s', (_what, fields, field, expected) => {
    expect(refusalOf(() => decodeTransferReply(info(fields)))).toBe(
      `BAD_REQUEST: INFO_OK: field "${field}" must be ${expected}.`,
    );
  });

  it('builds a refusal with its reason and sentence', () => {
    expect(rejection('NOT_FOUND', 'No.')).toStrictEqual({
      type: 'DOWNLOAD_REJECTED',
      reason: 'NOT_FOUND',
      message: 'No.',
    });
  });

  it('turns each refusal into the code a downloader branches on, in one sentence', () => {
    const error = (reason: string, message?: string) =>
      rejectionError(
        'peer 127.0.0.1:9',
        'a.bin',
        message === undefined
          ? { type: 'DOWNLOAD_REJECTED', reason }
          : { type: 'DOWNLOAD_REJECTED', reason, message },
      );
    expect(error('BUSY').code).toBe('BUSY');
    expect(error('NOT_FOUND').code).toBe('NOT_FOUND');
    expect(error('BAD_REQUEST').code).toBe('PROTOCOL');
    for (const reason of ['AUTH_FAILED', 'THROTTLED', 'BAD_RANGE', 'IO_ERROR', 'UNSAFE_NAME'])
      expect(error(reason).code, reason).toBe('REJECTED');
    expect(error('BUSY').message).toBe('The peer 127.0.0.1:9 refused a.bin: BUSY.');
    // Only the sentence's final dot is dropped (the line ends with its own).
    expect(error('NOT_FOUND', 'No file. Sorry.').message).toBe(
      'The peer 127.0.0.1:9 refused a.bin: NOT_FOUND (No file. Sorry).',
    );
    expect(error('NOT_FOUND', 'No file').message).toBe(
      'The peer 127.0.0.1:9 refused a.bin: NOT_FOUND (No file).',
    );
  });

  it('bounds lines as docs/protocol.md says: requests 64 KiB, replies 16 MiB', () => {
    expect(MAX_TRANSFER_REQUEST_BYTES).toBe(65_536);
    expect(MAX_TRANSFER_REPLY_BYTES).toBe(16_777_216);
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
