/**
 * The layout's rules, checked on the real source: imports flow UI -> I/O -> state/codec, never
 * back up and never in a circle. shared/ is pure code (no sockets, no other layer), io/ is the
 * socket code both sides use (it sees only shared/), and neither server/ nor peer/ imports the
 * other. A file that breaks a rule is named with the import that breaks it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LAYERS = ['shared', 'io', 'server', 'peer', 'bench'] as const;
/** test/ is checked as a target only: the benches reuse its helpers (random files, CLI processes). */
type Layer = (typeof LAYERS)[number] | 'test';

/** What each top folder may import from the others. */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  shared: [],
  io: ['shared'],
  server: ['io', 'shared'],
  peer: ['io', 'shared'],
  bench: ['server', 'peer', 'io', 'shared', 'test'],
  test: [],
};
/** Modules a pure layer must not load: they own sockets, files or a terminal. */
const IMPURE_MODULES = [
  'node:net',
  'node:dgram',
  'node:fs',
  'node:fs/promises',
  'node:readline',
  'node:http',
];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (entry.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Every `from '...'` and `import('...')` specifier of a file (type-only imports included). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const specifiers: string[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g))
    specifiers.push(match[1] as string);
  return specifiers;
}

function layerOf(file: string): Layer | undefined {
  return [...LAYERS, 'test' as const].find((layer) => file.startsWith(`${layer}${path.sep}`));
}

const files = LAYERS.filter((layer) => fs.existsSync(path.join(ROOT, layer))).flatMap(sourceFiles);
const graph = new Map<string, string[]>(
  files.map((file) => [
    file,
    importsOf(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => path.normalize(path.join(path.dirname(file), spec))),
  ]),
);

describe('import layers', () => {
  it('finds the source files (the check is not vacuous)', () => {
    expect(files.filter((file) => file.startsWith('shared')).length).toBeGreaterThan(5);
    expect(files.filter((file) => file.startsWith('peer')).length).toBeGreaterThan(20);
  });

  it('imports only from the layers below', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file) as Layer;
      for (const target of targets) {
        const to = layerOf(target);
        if (to === undefined) wrong.push(`${file} imports ${target}, outside the source folders`);
        else if (to !== from && !ALLOWED[from].includes(to))
          wrong.push(`${file} (${from}) imports ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps shared/ pure: no sockets, files or terminal', () => {
    const wrong = files
      .filter((file) => layerOf(file) === 'shared')
      .flatMap((file) =>
        importsOf(file)
          .filter((spec) => IMPURE_MODULES.includes(spec))
          .map((spec) => `${file}: ${spec}`),
      );
    expect(wrong).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'visiting');
      stack.push(file);
      for (const target of graph.get(file) ?? []) {
        if (!graph.has(target)) continue;
        const seen = state.get(target);
        if (seen === 'visiting') cycles.push([...stack.slice(stack.indexOf(target)), target].join(' -> '));
        else if (seen === undefined) visit(target);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
