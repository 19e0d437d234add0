/** The chat peer's typed lines (seed 002 client) and the lines it prints. */
import { describe, expect, it } from 'vitest';
import { parseChatLine } from '../../peer/chat/chat-commands.ts';
import {
  pushLine,
  queryLines,
  registeredLine,
  sharingLine,
  showAllLines,
} from '../../peer/chat/chat-format.ts';
import { errorCode } from '../helpers/error-code.ts';

const codeOf = (line: string) => errorCode(() => parseChatLine(line));

describe('chat line commands', () => {
  it('plain text is a message; // escapes a leading slash; blank lines do nothing', () => {
    expect(parseChatLine('hello all')).toEqual({ type: 'say', text: 'hello all' });
    expect(parseChatLine('  spaced  ')).toEqual({ type: 'say', text: '  spaced  ' });
    expect(parseChatLine('//setNick is a command')).toEqual({ type: 'say', text: '/setNick is a command' });
    expect(parseChatLine('   ')).toBeNull();
  });

  it('parses every command of seed 002', () => {
    expect(parseChatLine('/register')).toEqual({ type: 'register' });
    expect(parseChatLine('/showall')).toEqual({ type: 'showall' });
    expect(parseChatLine('/query aula 1.mp4')).toEqual({ type: 'query', file: 'aula 1.mp4' });
    expect(parseChatLine('/setNick tina')).toEqual({ type: 'setNick', alias: 'tina' });
    expect(parseChatLine('/setnick tina')).toEqual({ type: 'setNick', alias: 'tina' });
    expect(parseChatLine('/setSharedFiles')).toEqual({ type: 'setSharedFiles' });
    expect(parseChatLine('/fetch my file.bin 127.0.0.1:9001')).toEqual({
      type: 'fetch',
      file: 'my file.bin',
      host: '127.0.0.1',
      port: 9001,
    });
    // The seed's client leaves on `exit`; napshare's /quit and /exit are other ways to say it.
    expect(parseChatLine('exit')).toEqual({ type: 'quit' });
    expect(parseChatLine(' EXIT ')).toEqual({ type: 'quit' });
    expect(parseChatLine('exit now')).toEqual({ type: 'say', text: 'exit now' });
    expect(parseChatLine('/help')).toEqual({ type: 'help' });
    expect(parseChatLine('/quit')).toEqual({ type: 'quit' });
    expect(parseChatLine('/exit')).toEqual({ type: 'quit' });
  });

  it.each([
    ['/nope'],
    ['/query'],
    ['/setNick two words'],
    ['/setNick a:b'],
    ['/fetch file-only'],
    ['/fetch a.bin 127.0.0.1'],
    ['/fetch ../etc 127.0.0.1:9001'],
    ['/showall extra'],
    ['/register again'],
  ])('refuses %j with a clear error', (line) => {
    expect(['BAD_ARGUMENT', 'UNSAFE_NAME']).toContain(codeOf(line));
  });
});

describe('chat output lines', () => {
  it('prints relayed messages exactly as alias: text, and departures', () => {
    expect(pushLine({ type: 'CHAT', alias: 'tina', from: '127.0.0.1:8776', text: 'hi: there' })).toBe(
      'tina: hi: there',
    );
    expect(pushLine({ type: 'PEER_LEFT', address: '127.0.0.1:8776', alias: 'tina', reason: 'closed' })).toBe(
      '* tina left (127.0.0.1:8776)',
    );
    expect(pushLine({ type: 'PEER_LEFT', address: '127.0.0.1:8777', reason: 'timeout' })).toBe(
      '* 127.0.0.1:8777 timed out',
    );
  });

  it('formats /showall, /query and /setSharedFiles like seed 002', () => {
    expect(
      showAllLines(
        [
          { address: '127.0.0.1:1', fileCount: 1, alias: 'tina' },
          { address: '127.0.0.1:2', fileCount: 0 },
        ],
        '127.0.0.1:1',
      ),
    ).toEqual([
      '-----',
      'Online Users:',
      'tina -> 127.0.0.1:1 (1 file) (you)',
      '(no alias) -> 127.0.0.1:2 (0 files)',
      '-----',
    ]);
    expect(
      queryLines('a.mp4', [{ address: '127.0.0.1:1', alias: 'tina' }, { address: '127.0.0.1:2' }]),
    ).toEqual(['127.0.0.1:1 | tina => a.mp4', '127.0.0.1:2 => a.mp4']);
    expect(queryLines('a.mp4', [])).toEqual(['No peer shares a.mp4.']);
    expect(sharingLine(['a', 'b'])).toBe('Sharing 2 files: a b');
    expect(registeredLine('tina', '127.0.0.1:1', ['a'])).toBe(
      'Registered as tina at 127.0.0.1:1 with 1 file: a',
    );
    expect(registeredLine('tina', '127.0.0.1:1', [])).toBe('Registered as tina at 127.0.0.1:1 with 0 files');
    expect(sharingLine([])).toBe('Sharing 0 files');
  });

  it('no line but a message looks like `word: text`', () => {
    const others = [
      ...showAllLines([{ address: '127.0.0.1:1', fileCount: 3, alias: 'x' }], ''),
      ...queryLines('f', [{ address: '127.0.0.1:1', alias: 'x' }]),
      ...queryLines('f', []),
      sharingLine(['a']),
      pushLine({ type: 'PEER_LEFT', address: '127.0.0.1:1', alias: 'x', reason: 'left' }),
    ];
    for (const line of others) expect(line).not.toMatch(/^[^\s:]+: /);
  });
});
