import { describe, expect, it } from 'vitest';
import { parseLineCommand } from '../../peer/line-commands.ts';

describe('peer line commands', () => {
  it('parses the three commands; folder and file take the rest of the line', () => {
    expect(parseLineCommand('JOIN 127.0.0.1 8776 c:\\temp\\peer 1\\')).toEqual({
      type: 'JOIN',
      ip: '127.0.0.1',
      port: 8776,
      folder: 'c:\\temp\\peer 1\\',
    });
    expect(parseLineCommand('join 127.0.0.1 0 ./p1')).toEqual({
      type: 'JOIN',
      ip: '127.0.0.1',
      port: 0,
      folder: './p1',
    });
    expect(parseLineCommand('SEARCH Aula 1.mp4')).toEqual({ type: 'SEARCH', file: 'Aula 1.mp4' });
    expect(parseLineCommand('  DOWNLOAD 127.0.0.1 8776  ')).toEqual({
      type: 'DOWNLOAD',
      ip: '127.0.0.1',
      port: 8776,
    });
  });

  it.each([
    ['JOIN 127.0.0.1 8776', /Usage: JOIN ip port folder/],
    ['JOIN localhost 8776 p', /Invalid IP/],
    ['JOIN 127.0.0.1 99999 p', /Invalid port/],
    ['SEARCH', /Usage: SEARCH file/],
    ['DOWNLOAD 127.0.0.1', /Usage: DOWNLOAD ip port/],
    ['DOWNLOAD 127.0.0.1 80 x', /Usage: DOWNLOAD ip port/],
    ['DOWNLOAD 127.0.0.1 0', /Invalid port/],
    ['FETCH x', /Unknown command "FETCH"/],
  ])('refuses %j', (line, message) => {
    expect(() => parseLineCommand(line)).toThrow(message);
  });
});
