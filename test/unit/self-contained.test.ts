/**
 * The repository explains itself: no file points at a document outside it, every relative path a
 * file names stays inside the checkout, and every link of the README and docs/ reaches a file
 * (and a heading) that exists. A maintainer with the checkout alone has everything.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Every file of the checkout (tracked, or new and not ignored), text files only. */
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: ROOT,
  encoding: 'utf8',
})
  .split('\n')
  .filter((file) => file !== '' && fs.existsSync(path.join(ROOT, file)))
  .filter((file) => !/\.(png|jpe?g|gif|ico|webp|woff2?)$/.test(file) && file !== 'package-lock.json');
const text = new Map(files.map((file) => [file, fs.readFileSync(path.join(ROOT, file), 'utf8')]));
const markdown = files.filter((file) => file.endsWith('.md'));

/** Documents that live outside the repository: naming them sends a reader where they cannot go. */
const OUTSIDE = [/\bDESIGN\.md/, /\bDEPENDENCIES\.md/, /\bseeds\//, /\/work\//];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of (text.get(file) ?? '').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1] as string);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Relative link targets of a Markdown file: `[text](target)`, `![alt](target)`, `<img src="target">`. */
function linksOf(file: string): string[] {
  const body = (text.get(file) ?? '').replace(/```[\s\S]*?```/g, '');
  const targets = [...body.matchAll(/\]\(([^)\s]+)\)/g), ...body.matchAll(/<img[^>]*\ssrc="([^"]+)"/g)].map(
    (match) => match[1] as string,
  );
  return targets.filter((target) => !/^[a-z]+:/.test(target));
}

describe('a repository that stands on its own', () => {
  it('reads the checkout (the checks are not vacuous)', () => {
    expect(files).toContain('README.md');
    expect(markdown.length).toBeGreaterThan(3);
    expect(files.filter((file) => file.endsWith('.ts')).length).toBeGreaterThan(100);
  });

  it('names no document that lives outside the repository', () => {
    const wrong = [...text].flatMap(([file, body]) =>
      OUTSIDE.filter((pattern) => pattern.test(body)).map((pattern) => `${file} mentions ${pattern}`),
    );
    expect(wrong).toEqual([]);
  });

  it('names no relative path that leaves the checkout', () => {
    const wrong: string[] = [];
    for (const [file, body] of text) {
      for (const match of body.matchAll(/(?:^|[\s'"`(])((?:\.\.\/)+[\w.@-][\w./@-]*)/gm)) {
        const target = path.resolve(ROOT, path.dirname(file), match[1] as string);
        if (path.relative(ROOT, target).startsWith('..')) wrong.push(`${file}: ${match[1]}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('links only to files and headings that exist', () => {
    const wrong: string[] = [];
    for (const file of markdown) {
      for (const link of linksOf(file)) {
        const [target = '', anchor] = link.split('#');
        const resolved = target === '' ? file : path.normalize(path.join(path.dirname(file), target));
        if (!fs.existsSync(path.join(ROOT, resolved))) wrong.push(`${file}: ${link} (no such file)`);
        else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor))
          wrong.push(`${file}: ${link} (no such heading in ${resolved})`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
