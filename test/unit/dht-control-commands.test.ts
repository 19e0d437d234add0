import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatClean, formatPublish, formatSearch, formatStatus } from '../../peer/dht/control-answers.ts';
import { HELP_HINT, HELP_LINES, parseControlCommand } from '../../peer/dht/control-commands.ts';
import { isNapError } from '../../shared/errors.ts';

describe('control commands (seed 000, 11-12)', () => {
  it('parses every command', () => {
    expect(parseControlCommand('help')).toEqual({ type: 'help' });
    expect(parseControlCommand('  STATUS \r')).toEqual({ type: 'status' });
    expect(parseControlCommand('clean')).toEqual({ type: 'clean' });
    expect(parseControlCommand('quit')).toEqual({ type: 'quit' });
    expect(parseControlCommand('search redes')).toEqual({ type: 'search', keyword: 'redes', all: false });
    expect(parseControlCommand('search Aula 1.mp4')).toEqual({
      type: 'search',
      keyword: 'Aula 1.mp4',
      all: false,
    });
    expect(parseControlCommand('search --all redes')).toEqual({
      type: 'search',
      keyword: 'redes',
      all: true,
    });
    expect(parseControlCommand('search --allx')).toEqual({ type: 'search', keyword: '--allx', all: false });
    expect(parseControlCommand('publish my files/2024')).toEqual({ type: 'publish', dir: 'my files/2024' });
    expect(parseControlCommand('get a.mp4')).toEqual({ type: 'get', name: 'a.mp4' });
    expect(parseControlCommand('get Aula 1.mp4 127.0.0.1:7000')).toEqual({
      type: 'get',
      name: 'Aula 1.mp4',
      from: { host: '127.0.0.1', port: 7000 },
    });
  });

  it('answers what it cannot parse in one line with help as the hint', () => {
    const cases = [
      'foo',
      'hlep me',
      'search',
      'search --all',
      'publish',
      'get',
      'get 127.0.0.1:7000',
      'help me',
    ];
    for (const line of cases) {
      let message = '';
      try {
        parseControlCommand(line);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, line).toContain(HELP_HINT);
      expect(message).not.toContain('\n');
    }
    expect(() => parseControlCommand('foo')).toThrow(
      'Unknown command "foo"; type help for the list of commands.',
    );
  });

  it('refuses unsafe names and bad addresses in get', () => {
    expect(() => parseControlCommand('get ../etc/passwd')).toThrow(/path separator/);
    expect(() => parseControlCommand('get a.mp4 1.2.3.4:99999')).toThrow(/Invalid port/);
  });

  it('never throws anything but a NapError, whatever the line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (line) => {
        try {
          parseControlCommand(line);
        } catch (error) {
          expect(isNapError(error)).toBe(true);
        }
      }),
    );
  });

  it('help names every command', () => {
    const help = HELP_LINES.join('\n');
    for (const name of ['help', 'search', 'publish', 'clean', 'get', 'status', 'quit'])
      expect(help).toContain(`  ${name}`);
  });
});

describe('control answers', () => {
  const holders = [
    { address: { host: '127.0.0.1', port: 9000 }, names: null },
    { address: { host: '127.0.0.1', port: 7000 }, names: ['Aula 1 Redes.mp4', 'Redes 2.pdf'] },
    { address: { host: '10.0.0.2', port: 8000 }, names: ['redes.txt'] },
  ];

  it('search: "KEYWORD found." then IP:PORT NAME; --all adds IP:PORT ?', () => {
    expect(formatSearch('redes', holders, false)).toEqual([
      'redes found.',
      '10.0.0.2:8000 redes.txt',
      '127.0.0.1:7000 Aula 1 Redes.mp4',
      '127.0.0.1:7000 Redes 2.pdf',
    ]);
    expect(formatSearch('redes', holders, true)).toEqual([
      'redes found.',
      '10.0.0.2:8000 redes.txt',
      '127.0.0.1:7000 Aula 1 Redes.mp4',
      '127.0.0.1:7000 Redes 2.pdf',
      '127.0.0.1:9000 ?',
    ]);
  });

  it('search: "Cannot find KEYWORD" when nobody confirms (seed 000, 16)', () => {
    expect(formatSearch('x', [], false)).toEqual(['Cannot find x']);
    expect(formatSearch('x', [holders[0] as (typeof holders)[0]], false)).toEqual(['Cannot find x']);
    expect(formatSearch('x', [holders[0] as (typeof holders)[0]], true)).toEqual([
      'x found.',
      '127.0.0.1:9000 ?',
    ]);
  });

  it('publish and clean say how many', () => {
    const retry = { retryInMs: 1000, retryMaxMs: 60_000 };
    expect(formatPublish({ files: 2, pending: 0, waiting: false }, 'shared', retry)).toEqual([
      'Published 2 files from shared.',
    ]);
    expect(formatPublish({ files: 1, pending: 3, waiting: true }, 'shared', retry)).toEqual([
      'Published 1 file from shared; no DHT node known yet, announced as soon as one is.',
    ]);
    expect(formatPublish({ files: 0, pending: 0, waiting: false }, 'empty', retry)).toEqual([
      'Published 0 files: empty has no regular file to share.',
    ]);
    expect(formatClean(3, 30 * 60_000)).toEqual([
      'Removed 3 files.',
      'The DHT has no delete: other nodes forget these entries within 40 min (napshare nodes with --peer-max-age 30 min).',
    ]);
  });

  it('publish says how many keys no node took, and when they are tried again', () => {
    expect(
      formatPublish({ files: 300, pending: 153, waiting: false }, 'shared', {
        retryInMs: 1000,
        retryMaxMs: 60_000,
      }),
    ).toEqual([
      'Published 300 files from shared.',
      '153 keys not announced yet (no node took them); tried again in 1 s, then at least every 1 min until they are.',
    ]);
    expect(
      formatPublish({ files: 0, pending: 1, waiting: false }, 'empty', {
        retryInMs: undefined,
        retryMaxMs: 5000,
      }),
    ).toEqual([
      'Published 0 files: empty has no regular file to share.',
      '1 key not announced yet (no node took them); tried again soon, then at least every 5 s until they are.',
    ]);
  });

  const status = {
    nodeId: 'ab'.repeat(20),
    dhtPort: 6881,
    filePort: 7000,
    routingTableSize: 19,
    datagrams: { received: 1200, malformed: 4, failed: 1 },
    published: ['a.txt'],
    keys: 300,
    pending: 0,
    waiting: false,
    retryInMs: undefined as number | undefined,
  };

  it('status lists a bounded number of names', () => {
    const published = Array.from({ length: 150 }, (_, i) => `f${String(i).padStart(3, '0')}`);
    const lines = formatStatus({ ...status, published });
    expect(lines.slice(0, 6)).toEqual([
      `Node id ${'ab'.repeat(20)}`,
      'DHT port 6881 (UDP), file server port 7000 (TCP)',
      'Routing table: 19 nodes',
      'Datagrams: 1200 received, 4 malformed dropped, 1 the DHT library failed on',
      'Published: 150 files under 300 keys',
      'Not announced yet: 0 keys',
    ]);
    expect(lines).toHaveLength(6 + 100 + 1);
    expect(lines.at(-1)).toBe('  ... and 50 more');
  });

  it('status says how many keys are pending, and what they wait for', () => {
    const pendingLine = (report: Partial<typeof status>) => formatStatus({ ...status, ...report })[5];
    expect(pendingLine({ pending: 1, retryInMs: 4200 })).toBe('Not announced yet: 1 key (next try in 4 s)');
    expect(pendingLine({ pending: 3, waiting: true })).toBe(
      'Not announced yet: 3 keys (waiting for a first DHT node)',
    );
    expect(pendingLine({ pending: 3 })).toBe('Not announced yet: 3 keys (being announced)');
  });
});
