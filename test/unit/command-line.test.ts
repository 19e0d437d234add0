/**
 * io/command-line.ts's sentences for each kind of command-line mistake (the real CLIs are run in
 * test/integration/cli-contract.test.ts), the typed values it returns, and the exit codes after a
 * signal.
 */
import { describe, expect, it } from 'vitest';
import { parseCommandLine, signalExitCode } from '../../io/command-line.ts';
import { errorCode } from '../helpers/error-code.ts';

const SPEC = {
  command: 'npm run -s peer -- demo',
  usage: 'Usage: npm run -s peer -- demo --name NAME',
  options: { name: { type: 'string' }, port: { type: 'string', default: '0' }, fast: { type: 'boolean' } },
  required: ['name'],
} as const;

function sentence(argv: string[], spec: Parameters<typeof parseCommandLine>[1] = SPEC): string {
  try {
    parseCommandLine(argv, spec);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('parseCommandLine', () => {
  it('returns the values given, the defaults and the common flags', () => {
    const parsed = parseCommandLine(['--name', 'ana', '--verbose'], SPEC);
    expect(parsed?.values).toEqual({ name: 'ana', port: '0', verbose: true, help: false });
    expect(parsed?.positionals).toEqual([]);
    expect(parseCommandLine(['--name', 'ana'], SPEC)?.values.verbose).toBe(false);
  });

  it('takes positionals only when the program has them', () => {
    const withPositionals = { ...SPEC, positionals: true } as const;
    expect(parseCommandLine(['--name', 'a', '4201', 'x'], withPositionals)?.positionals).toEqual([
      '4201',
      'x',
    ]);
    expect(sentence(['--name', 'a', '4201'])).toBe(
      "Unexpected argument '4201'; see npm run -s peer -- demo --help.",
    );
  });

  it('says what is wrong in one sentence pointing to --help', () => {
    const hint = '; see npm run -s peer -- demo --help.';
    expect(sentence(['--nope'])).toBe(`Unknown option '--nope'${hint}`);
    expect(sentence(['--name'])).toBe(`Option '--name <value>' argument missing${hint}`);
    expect(sentence(['--name', 'a', '--fast=yes'])).toBe(`Option '--fast' does not take an argument${hint}`);
    expect(sentence([])).toBe(`Missing --name${hint}`);
    expect(sentence([], { ...SPEC, required: ['name', 'port'] as const })).toBe(`Missing --name${hint}`);
    expect(
      sentence([], {
        ...SPEC,
        options: { ...SPEC.options, dir: { type: 'string' } },
        required: ['name', 'dir'],
      }),
    ).toBe(`Missing --name, --dir${hint}`);
    expect(errorCode(() => parseCommandLine(['--nope'], SPEC))).toBe('BAD_ARGUMENT');
  });
});

describe('signalExitCode', () => {
  it('is 0 for Ctrl+C at a terminal, as a shell says otherwise', () => {
    expect(signalExitCode('SIGINT', true)).toBe(0);
    expect(signalExitCode('SIGINT', false)).toBe(130);
    expect(signalExitCode('SIGTERM', true)).toBe(143);
    expect(signalExitCode('SIGTERM', false)).toBe(143);
  });
});
