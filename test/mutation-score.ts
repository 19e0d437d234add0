/**
 * Reads Stryker's JSON report (reports/mutation/mutation.json, written by `npm run test:mutate`)
 * and prints one line per mutated file, then `mutation score: N%` as the last line: killed and
 * timed-out mutants over every valid mutant (survivors and mutants no test covers count against).
 * With --survivors, lists every mutant that lived, with its place and replacement, for review.
 * Usage: node --import tsx test/mutation-score.ts [--survivors] [REPORT]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number } };
}

interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

const args = process.argv.slice(2);
const listSurvivors = args.includes('--survivors');
const reportPath =
  args.find((arg) => !arg.startsWith('--')) ?? path.join(ROOT, 'reports/mutation/mutation.json');
const report = JSON.parse(fs.readFileSync(reportPath, 'utf8')) as Report;

/** Detected share of the valid mutants (compile errors and ignored mutants are not valid). */
function score(mutants: Mutant[]): { detected: number; valid: number; percent: number } {
  const detected = mutants.filter((mutant) => DETECTED.has(mutant.status)).length;
  const valid = detected + mutants.filter((mutant) => UNDETECTED.has(mutant.status)).length;
  return { detected, valid, percent: valid === 0 ? 100 : (100 * detected) / valid };
}

const all: Mutant[] = [];
for (const [file, { source, mutants }] of Object.entries(report.files).sort(([a], [b]) =>
  a.localeCompare(b),
)) {
  all.push(...mutants);
  const { detected, valid, percent } = score(mutants);
  console.log(`${percent.toFixed(2).padStart(6)}%  ${String(detected).padStart(4)}/${valid}  ${file}`);
  if (!listSurvivors) continue;
  const lines = source.split('\n');
  for (const mutant of mutants.filter((m) => UNDETECTED.has(m.status))) {
    const { line, column } = mutant.location.start;
    const code = (lines[line - 1] ?? '').trim().slice(0, 100);
    const replacement = (mutant.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80);
    console.log(`    ${mutant.status} ${file}:${line}:${column} ${mutant.mutatorName} -> ${replacement}`);
    console.log(`        ${code}`);
  }
}
console.log(`mutation score: ${score(all).percent.toFixed(2)}%`);
