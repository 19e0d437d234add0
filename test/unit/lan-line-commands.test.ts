import { describe, expect, it } from 'vitest';
import { ConsoleGate, MAX_HELD_LINES } from '../../peer/lan/console-gate.ts';
import { parseLanCommand } from '../../peer/lan/line-commands.ts';
import { NapError } from '../../shared/errors.ts';

describe('LAN line commands', () => {
  it('parse MSG with the text as typed', () => {
    expect(parseLanCommand('MSG coucou !')).toEqual({ type: 'MSG', text: 'coucou !' });
    expect(parseLanCommand('msg   spaced  out')).toEqual({ type: 'MSG', text: '  spaced  out' });
  });

  it('parse GET ip port password file, the file being the rest of the line', () => {
    expect(parseLanCommand('GET 127.0.0.1 4000 s3cret my file.jpg')).toEqual({
      type: 'GET',
      ip: '127.0.0.1',
      port: 4000,
      password: 's3cret',
      file: 'my file.jpg',
    });
  });

  it('parse GET n password, picking an offer heard', () => {
    expect(parseLanCommand('GET 3 s3cret')).toEqual({ type: 'GET_OFFER', id: 3, password: 's3cret' });
  });

  it('parse OFFER file password, the password being the last word', () => {
    expect(parseLanCommand('OFFER my file.jpg s3cret')).toEqual({
      type: 'OFFER',
      file: 'my file.jpg',
      password: 's3cret',
    });
    expect(parseLanCommand('offers')).toEqual({ type: 'OFFERS' });
    expect(parseLanCommand('QUIT')).toEqual({ type: 'QUIT' });
  });

  it('refuse incomplete or unknown commands with a sentence', () => {
    for (const line of [
      'MSG',
      'MSG   ',
      'GET',
      'GET 127.0.0.1 4000 pw',
      'GET 999.0.0.1 4000 pw f',
      'GET 127.0.0.1 0 pw f',
      'GET 1',
      'OFFER file.txt',
      'OFFERS now',
      'QUIT please',
      'HELLO',
    ]) {
      expect(() => parseLanCommand(line), line).toThrow(NapError);
    }
  });
});

describe('ConsoleGate', () => {
  const recorder = () => {
    const written: string[] = [];
    return { written, gate: new ConsoleGate((stream, line) => written.push(`${stream}:${line}`)) };
  };

  it('writes at once when nobody is typing', () => {
    const { written, gate } = recorder();
    gate.stdout('a');
    gate.stderr('b');
    expect(written).toEqual(['stdout:a', 'stderr:b']);
  });

  it('holds lines while a prompt is open and shows them in order when it closes', () => {
    const { written, gate } = recorder();
    gate.hold();
    gate.stdout('1');
    gate.stderr('2');
    gate.stdout('3');
    expect(written).toEqual([]);
    gate.release();
    expect(written).toEqual(['stdout:1', 'stderr:2', 'stdout:3']);
    expect(gate.holding).toBe(false);
  });

  it('tells an idle prompt that a line is waiting, even one held before', () => {
    const { gate } = recorder();
    let calls = 0;
    gate.hold();
    gate.stdout('early');
    gate.hold(() => calls++);
    expect(calls).toBe(1);
    gate.stdout('late');
    expect(calls).toBe(2);
  });

  it('holds a bounded number of lines and says how many were dropped', () => {
    const { written, gate } = recorder();
    gate.hold();
    for (let i = 0; i < MAX_HELD_LINES + 5; i++) gate.stdout(String(i));
    gate.release();
    expect(written[0]).toBe('stderr:(5 earlier lines were dropped while you typed)');
    expect(written).toHaveLength(MAX_HELD_LINES + 1);
    expect(written[1]).toBe('stdout:5');
  });
});
