import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTROL_MAGIC,
  decodeDatagram,
  encodeChat,
  encodeOffer,
  encodeQuery,
  encodeWithdraw,
  isControlDatagram,
  MAX_CHAT_BYTES,
  MAX_CONTROL_BYTES,
} from '../../peer/lan/datagram.ts';
import { NapError } from '../../shared/errors.ts';
import { refusalOf } from '../helpers/error-code.ts';

const OFFER = { file: 'a.bin', size: 1234, ip: '127.0.0.1', port: 40123 };

describe('LAN chat datagrams', () => {
  it('are the typed text itself, UTF-8, ended by a newline like socat sends it', () => {
    expect(encodeChat('coucou !')).toEqual(Buffer.from('coucou !\n'));
    expect(encodeChat('été ✓')).toEqual(Buffer.from('été ✓\n', 'utf8'));
  });

  it('decode what plain tools send: one line, or several lines, LF or CRLF, blank lines dropped', () => {
    expect(decodeDatagram(Buffer.from('coucou !'))).toEqual({ type: 'CHAT', lines: ['coucou !'] });
    expect(decodeDatagram(Buffer.from('coucou !\n'))).toEqual({ type: 'CHAT', lines: ['coucou !'] });
    expect(decodeDatagram(Buffer.from('one\r\n\r\ntwo\n'))).toEqual({ type: 'CHAT', lines: ['one', 'two'] });
    expect(decodeDatagram(Buffer.from('\ttab  kept '))).toEqual({ type: 'CHAT', lines: ['\ttab  kept '] });
  });

  it('round-trip any one-line text without control characters', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }).filter(
          // biome-ignore lint/suspicious/noControlCharactersInRegex: the generator must avoid them.
          (text) => text.trim().length > 0 && !/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.test(text),
        ),
        (text) => {
          const decoded = decodeDatagram(encodeChat(text));
          expect(decoded).toEqual({ type: 'CHAT', lines: [text] });
        },
      ),
    );
  });

  it('refuse to send empty text, control characters, several lines or too much', () => {
    for (const text of ['', '   ', 'a\nb', 'bell\u0007', 'esc\u001b[31m', 'x'.repeat(MAX_CHAT_BYTES)]) {
      expect(() => encodeChat(text), JSON.stringify(text.slice(0, 20))).toThrow(NapError);
    }
    expect(encodeChat('x'.repeat(MAX_CHAT_BYTES - 1))).toHaveLength(MAX_CHAT_BYTES);
  });

  it('ignore binary, escape sequences, blank and oversized datagrams', () => {
    const bad = [
      Buffer.from([0xff, 0xfe, 0x80, 0x41]), // not UTF-8
      Buffer.from('\u001b[2Jcleared your screen'), // terminal escape
      Buffer.from('\u009b31m'), // C1 control (CSI)
      Buffer.from('   \n\r\n'),
      Buffer.alloc(0),
      Buffer.alloc(MAX_CHAT_BYTES + 1, 0x41),
      Buffer.alloc(65_507, 0x41), // the biggest UDP datagram
    ];
    for (const data of bad)
      expect(() => decodeDatagram(data), data.subarray(0, 8).toString('hex')).toThrow(NapError);
  });
});

describe('LAN control datagrams', () => {
  it('start with NUL "napshare" 0x01 (golden bytes of an offer)', () => {
    expect(CONTROL_MAGIC.toString('hex')).toBe('006e6170736861726501');
    expect(encodeOffer(OFFER).toString('hex')).toBe(
      '006e6170736861726501' +
        Buffer.from(
          '{"type":"OFFER","file":"a.bin","size":1234,"ip":"127.0.0.1","port":40123,"auth":"hmac-sha256"}',
        ).toString('hex'),
    );
  });

  it('round-trip offers, withdrawals and queries', () => {
    expect(decodeDatagram(encodeOffer(OFFER))).toEqual({ type: 'OFFER', offer: OFFER });
    expect(decodeDatagram(encodeWithdraw('10.0.0.7', 5000))).toEqual({
      type: 'WITHDRAW',
      ip: '10.0.0.7',
      port: 5000,
    });
    expect(decodeDatagram(encodeQuery())).toEqual({ type: 'QUERY' });
  });

  it('never carry a password: an offer only says which scheme protects the file', () => {
    const text = encodeOffer(OFFER).subarray(CONTROL_MAGIC.length).toString();
    expect(Object.keys(JSON.parse(text)).sort()).toEqual(['auth', 'file', 'ip', 'port', 'size', 'type']);
  });

  it('cannot be produced by typed text: chat never starts with NUL', () => {
    expect(() => encodeChat('\u0000napshare\u0001{"type":"QUERY"}')).toThrow(NapError);
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (text) => {
        let bytes: Buffer;
        try {
          bytes = encodeChat(text);
        } catch {
          return;
        }
        expect(decodeDatagram(bytes).type).toBe('CHAT');
      }),
    );
  });

  it('reject every truncation of an offer', () => {
    const bytes = encodeOffer(OFFER);
    for (let length = 1; length < bytes.length; length++) {
      expect(() => decodeDatagram(bytes.subarray(0, length)), `first ${length} bytes`).toThrow(NapError);
    }
  });

  it('reject offers with bad fields, unknown schemes, unknown types and wrong magic', () => {
    const control = (body: object | string) =>
      Buffer.concat([CONTROL_MAGIC, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))]);
    const bad = [
      control({ ...OFFER, type: 'OFFER', auth: 'none' }),
      control({ ...OFFER, type: 'OFFER' }),
      control({ ...OFFER, type: 'OFFER', auth: 'hmac-sha256', file: '../etc/passwd' }),
      control({ ...OFFER, type: 'OFFER', auth: 'hmac-sha256', ip: 'example.org' }),
      control({ ...OFFER, type: 'OFFER', auth: 'hmac-sha256', port: 0 }),
      control({ ...OFFER, type: 'OFFER', auth: 'hmac-sha256', size: -1 }),
      control({ type: 'WITHDRAW', ip: '127.0.0.1' }),
      control({ type: 'PASSWORD', value: 'x' }),
      control('[1,2,3]'),
      control('not json'),
      Buffer.concat([Buffer.from('\u0000napshare\u0002'), Buffer.from('{"type":"QUERY"}')]), // version 2
      Buffer.from([0, 1, 2, 3]),
      Buffer.concat([control({ type: 'QUERY' }), Buffer.alloc(2000, 0x20)]), // over 1 KiB
    ];
    for (const data of bad) expect(() => decodeDatagram(data), data.toString('latin1')).toThrow(NapError);
  });

  it('decode random bytes without anything but a NapError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (bytes, withMagic) => {
        const data = withMagic ? Buffer.concat([CONTROL_MAGIC, bytes]) : Buffer.from(bytes);
        try {
          decodeDatagram(data);
        } catch (error) {
          expect(error).toBeInstanceOf(NapError);
        }
      }),
    );
  });
});

describe('LAN datagrams: bounds and refusals, each in its own words', () => {
  it('chat: up to MAX_CHAT_BYTES on the wire, both ways', () => {
    expect(MAX_CHAT_BYTES).toBe(8192);
    expect(refusalOf(() => decodeDatagram(Buffer.alloc(MAX_CHAT_BYTES, 0x41)))).toBe('accepted');
    expect(refusalOf(() => decodeDatagram(Buffer.alloc(MAX_CHAT_BYTES + 1, 0x41)))).toBe(
      'BAD_REQUEST: Ignored a chat datagram longer than 8192 bytes.',
    );
    expect(refusalOf(() => encodeChat('x'.repeat(MAX_CHAT_BYTES)))).toBe(
      'BAD_ARGUMENT: The message is longer than 8191 bytes.',
    );
  });

  it.each([
    ['   ', 'BAD_ARGUMENT: The message is empty.'],
    ['two\nlines', 'BAD_ARGUMENT: A message is one line of text without control characters.'],
  ])('refuses to send %j', (text, sentence) => {
    expect(refusalOf(() => encodeChat(text))).toBe(sentence);
  });

  // Datagrams built by napshare's encoders are built inside the test (a thunk), not when the table
  // is collected: a mutant that breaks an encoder must fail a test, not the loading of the file.
  it.each<[string, Buffer | (() => Buffer), string]>([
    ['not UTF-8', Buffer.from([0x41, 0xff]), 'BAD_REQUEST: Ignored a chat datagram that is not UTF-8 text.'],
    ['blank lines only', Buffer.from(' \r\n\n'), 'BAD_REQUEST: Ignored an empty chat datagram.'],
    [
      'one clean line and one with a bell',
      Buffer.from('fine\nring \u0007'),
      'BAD_REQUEST: Ignored chat text with control characters.',
    ],
    [
      'NUL then anything else',
      Buffer.from('\u0000napshark\u0001{"type":"QUERY"}'),
      'BAD_REQUEST: Ignored a datagram starting with NUL that is not a napshare announcement.',
    ],
    [
      'the magic of another version',
      Buffer.from('\u0000napshare\u0002{"type":"QUERY"}'),
      'BAD_REQUEST: Ignored a datagram starting with NUL that is not a napshare announcement.',
    ],
    ['the magic alone', CONTROL_MAGIC, 'BAD_REQUEST: The line is not valid JSON.'],
    [
      'a body that is not UTF-8',
      Buffer.concat([CONTROL_MAGIC, Buffer.from([0x7b, 0xff, 0x7d])]),
      'BAD_REQUEST: Ignored an announcement that is not UTF-8.',
    ],
    [
      'an unknown type',
      Buffer.concat([CONTROL_MAGIC, Buffer.from('{"type":"PASSWORD"}')]),
      'BAD_REQUEST: Ignored an announcement of unknown type "PASSWORD".',
    ],
    [
      'an offer of an unsafe name',
      () => encodeOffer({ ...OFFER, file: '../x' }),
      'BAD_REQUEST: Ignored an offer of an unsafe file name.',
    ],
    [
      'an offer without a port',
      () => encodeOffer({ ...OFFER, port: 0 }),
      'BAD_REQUEST: Ignored an offer without a valid IPv4 address and port.',
    ],
    [
      'an offer with a host name',
      () => encodeOffer({ ...OFFER, ip: 'example.org' }),
      'BAD_REQUEST: Ignored an offer without a valid IPv4 address and port.',
    ],
    [
      'an offer of another scheme',
      Buffer.concat([CONTROL_MAGIC, Buffer.from(JSON.stringify({ type: 'OFFER', ...OFFER, auth: 'none' }))]),
      'BAD_REQUEST: Ignored an offer with an unknown authentication scheme.',
    ],
    [
      'a withdrawal without an address',
      () => encodeWithdraw('nowhere', 5000),
      'BAD_REQUEST: Ignored a withdrawal without a valid IPv4 address and port.',
    ],
    [
      'a withdrawal with port 0',
      () => encodeWithdraw('10.0.0.7', 0),
      'BAD_REQUEST: Ignored a withdrawal without a valid IPv4 address and port.',
    ],
  ])('ignores %s', (_what, data, sentence) => {
    expect(refusalOf(() => decodeDatagram(typeof data === 'function' ? data() : data))).toBe(sentence);
  });

  it('control: up to MAX_CONTROL_BYTES on the wire, both ways', () => {
    expect(MAX_CONTROL_BYTES).toBe(1024);
    const padded = (bytes: number) =>
      Buffer.concat([encodeQuery(), Buffer.alloc(bytes - encodeQuery().length, 0x20)]);
    expect(decodeDatagram(padded(MAX_CONTROL_BYTES))).toEqual({ type: 'QUERY' });
    expect(refusalOf(() => decodeDatagram(padded(MAX_CONTROL_BYTES + 1)))).toBe(
      'BAD_REQUEST: Ignored a control datagram longer than 1024 bytes.',
    );
    // An offer whose name makes it exactly 1024 bytes is sent; one byte more is refused.
    const base = encodeOffer({ ...OFFER, file: '' }).length;
    const named = (length: number) => encodeOffer({ ...OFFER, file: 'x'.repeat(length) });
    expect(named(MAX_CONTROL_BYTES - base)).toHaveLength(MAX_CONTROL_BYTES);
    expect(refusalOf(() => named(MAX_CONTROL_BYTES - base + 1))).toBe(
      'BAD_ARGUMENT: The announcement is too long.',
    );
  });

  it('tells control datagrams by their first byte alone', () => {
    expect(isControlDatagram(Buffer.from([0]))).toBe(true);
    expect(isControlDatagram(Buffer.from([1, 0]))).toBe(false);
    expect(isControlDatagram(Buffer.alloc(0))).toBe(false);
  });
});
