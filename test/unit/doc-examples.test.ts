/**
 * The parser of a page's shell examples (test/helpers/doc-examples.ts): what a reader of the page
 * would run, in which terminal, and what each step must show.
 */
import { describe, expect, it } from 'vitest';
import { parseExamples } from '../helpers/doc-examples.ts';

const PAGE = [
  '# A page',
  '',
  '```sh',
  'echo top',
  '```',
  '',
  '## First',
  '',
  '```sh',
  'mkdir -p /tmp/x   # make it',
  'echo \'a # not a comment\'   # "a # not"',
  '# words for the reader',
  '# terminal 1: the server "listening on 127.0.0.1 ..."',
  'npm run -s server -- \\',
  '  --port 1099',
  '# terminal 2: a peer',
  'npm run -s peer',
  '```',
  '',
  '```text',
  'not run',
  '```',
  '',
  '```sh',
  'printf hi   # "hi"',
  '# terminal 2 shows "Sou peer"',
  '```',
  '',
  '## Second, without examples',
  '',
  '```',
  'npm run -s demo',
  '```',
].join('\n');

describe('parseExamples', () => {
  const sections = parseExamples(PAGE);

  it('groups the steps by ## section, leaving out sections without ```sh examples', () => {
    expect(sections.map((section) => section.heading)).toEqual(['(top)', 'First']);
    expect(sections[0]?.steps).toEqual([{ kind: 'command', text: 'echo top', line: 4 }]);
  });

  it('reads commands, their expected output, terminals with their ready text, and waits', () => {
    expect(sections[1]?.steps).toEqual([
      { kind: 'command', text: 'mkdir -p /tmp/x', line: 10 },
      { kind: 'command', text: "echo 'a # not a comment'", expect: 'a # not', line: 11 },
      {
        kind: 'terminal',
        number: 1,
        title: 'terminal 1: the server "listening on 127.0.0.1 ..."',
        ready: 'listening on 127.0.0.1',
        commands: ['npm run -s server -- --port 1099'],
        line: 13,
      },
      { kind: 'terminal', number: 2, title: 'terminal 2: a peer', commands: ['npm run -s peer'], line: 16 },
      { kind: 'command', text: 'printf hi', expect: 'hi', line: 25 },
      { kind: 'shows', terminal: 2, text: 'Sou peer', line: 26 },
    ]);
  });
});
