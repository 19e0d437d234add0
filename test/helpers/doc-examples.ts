/**
 * The shell examples of a Markdown page, as a person would run them: every ```sh block, in order,
 * grouped by `##` section. Pure: parsing only (test/helpers/doc-runner.ts runs them).
 *
 * The conventions the pages follow, which read as ordinary comments:
 * - `# terminal N: what it is` starts the commands of another terminal (the rest of the block),
 *   which keeps running (a server, a peer) until the section ends, when it gets Ctrl+C. A
 *   "quoted text" in that comment is what the terminal shows once it is ready (a trailing ` ...`
 *   is left out); without one, an index server (`run -s server`) is ready once its port accepts
 *   connections, anything else at once.
 * - `# terminal N shows "text"` waits until terminal N has shown that text.
 * - Any other line is a command of the first terminal (the one the page is read in): it must
 *   end with exit code 0; a `# "quoted text"` comment at its end is what it must print.
 * - A line ending with `\` goes on on the next line.
 */

export interface Command {
  kind: 'command';
  /** The command as bash reads it (continuations joined). */
  text: string;
  /** Text its output must contain. */
  expect?: string;
  /** Where it is in the page (1-based line). */
  line: number;
}

export interface Terminal {
  kind: 'terminal';
  /** N of `terminal N`. */
  number: number;
  /** The comment that opens it, e.g. `terminal 2: ana, sharing ana`. */
  title: string;
  commands: string[];
  /** Text its screen shows once it is ready. */
  ready?: string;
  line: number;
}

/** A wait for a terminal's screen: `# terminal N shows "text"`. */
export interface Shows {
  kind: 'shows';
  terminal: number;
  text: string;
  line: number;
}

export type Step = Command | Terminal | Shows;

export interface Section {
  heading: string;
  steps: Step[];
}

const TERMINAL = /^#\s*(terminal\s+(\d+)\b.*)$/;
const SHOWS = /^#\s*terminal\s+(\d+)\s+shows\s+"(.+)"\s*$/;
/** The first "quoted text" of a comment, a trailing " ..." left out. */
const QUOTED = /"([^"]+?)(?: \.\.\.)?"/;

/** The comment at the end of a command line, if any: `cmd   # "text"` (not a # inside quotes). */
function splitComment(line: string): { code: string; comment?: string } {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"') i++;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '#' && (i === 0 || /\s/.test(line[i - 1] as string)))
      return { code: line.slice(0, i).trimEnd(), comment: line.slice(i + 1) };
  }
  return { code: line };
}

export function parseExamples(markdown: string): Section[] {
  const sections: Section[] = [{ heading: '(top)', steps: [] }];
  const lines = markdown.split('\n');
  let inSh = false;
  let fenced = false;
  let terminal: Terminal | undefined;
  let pending = '';
  let pendingLine = 0;
  const current = () => sections.at(-1) as Section;
  for (const [index, raw] of lines.entries()) {
    const lineNo = index + 1;
    if (raw.startsWith('```')) {
      if (!fenced) {
        fenced = true;
        inSh = raw.trim() === '```sh';
      } else {
        fenced = false;
        inSh = false;
        terminal = undefined;
      }
      continue;
    }
    if (!fenced && raw.startsWith('## ')) sections.push({ heading: raw.slice(3).trim(), steps: [] });
    if (!inSh) continue;
    if (pending === '') pendingLine = lineNo;
    const joined = pending === '' ? raw : pending + raw.trimStart();
    if (joined.endsWith('\\')) {
      pending = `${joined.slice(0, -1).trimEnd()} `;
      continue;
    }
    pending = '';
    const line = joined.trim();
    if (line === '') continue;
    const shows = SHOWS.exec(line);
    if (shows) {
      terminal = undefined; // what follows is the first terminal's again
      const text = shows[2] as string;
      current().steps.push({ kind: 'shows', terminal: Number(shows[1]), text, line: pendingLine });
      continue;
    }
    const opens = TERMINAL.exec(line);
    if (opens) {
      const title = opens[1] as string;
      const number = Number(opens[2]);
      terminal = { kind: 'terminal', number, title, commands: [], line: pendingLine };
      const ready = QUOTED.exec(title)?.[1];
      if (ready !== undefined) terminal.ready = ready;
      current().steps.push(terminal);
      continue;
    }
    const { code, comment } = splitComment(line);
    if (code === '') continue; // a comment line: words for the reader
    if (terminal) {
      terminal.commands.push(code);
      continue;
    }
    const command: Command = { kind: 'command', text: code, line: pendingLine };
    const expect = comment === undefined ? undefined : QUOTED.exec(comment)?.[1];
    if (expect !== undefined) command.expect = expect;
    current().steps.push(command);
  }
  return sections.filter((section) => section.steps.length > 0);
}
