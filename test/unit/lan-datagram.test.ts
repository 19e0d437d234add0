import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTROL_MAGIC,
  decodeDatagram,
  encodeChat,
  encodeOffer,
  encodeQuery,
  encodeWithdraw,
  MAX_CHAT_BYTES,
} from '../../peer/lan/datagram.ts';
import { NapError } from '../../shared/errors.ts';

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
