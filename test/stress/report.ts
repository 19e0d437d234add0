/**
 * What the stress suite counts and prints: one row per attack (tries, how many the system
 * survived, answers that were wrong and files that were lost or wrong), the markdown table of
 * them and the last line. Pure.
 */

/** Problems of one kind kept per row, to print (the count goes on beyond). */
const MAX_DETAILS = 5;

export class Row {
  tries = 0;
  survived = 0;
  crashes = 0;
  wrong = 0;
  lost = 0;
  readonly notes: string[] = [];
  readonly details: string[] = [];

  constructor(readonly attack: string) {}

  /** A server process died, or stopped answering for good. */
  crash(detail: string): void {
    this.crashes++;
    this.remember(`crash: ${detail}`);
  }

  /** A well-behaved client got a wrong answer, no answer in time, or no refusal line. */
  wrongAnswer(detail: string): void {
    this.wrong++;
    this.remember(`wrong: ${detail}`);
  }

  /** A file under its final name is missing, or holds bytes other than the original's. */
  lostFile(detail: string): void {
    this.lost++;
    this.remember(`lost: ${detail}`);
  }

  /** `condition` must hold; otherwise one wrong answer, described. */
  check(condition: boolean, detail: () => string): boolean {
    if (!condition) this.wrongAnswer(detail());
    return condition;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  get clean(): boolean {
    return this.crashes === 0 && this.wrong === 0 && this.lost === 0;
  }

  private remember(detail: string): void {
    if (this.details.length < MAX_DETAILS) this.details.push(detail);
  }
}

/** 100000 -> "100,000": counts in the table are read by people. */
export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** The table, as markdown (it goes into docs/testing.md as printed). */
export function formatTable(rows: readonly Row[]): string[] {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    '| attack | tries | survived | lost or wrong | notes |',
    '|---|---:|---:|---:|---|',
    ...rows.map(
      (row) =>
        `| ${cell(row.attack)} | ${count(row.tries)} | ${count(row.survived)} | ${count(row.lost + row.wrong)} | ${cell(
          [...(row.crashes > 0 ? [`${row.crashes} crashed`] : []), ...row.notes].join('; '),
        )} |`,
    ),
  ];
}

/** The last line: `stress: N attacks, 0 crashes, 0 wrong answers, 0 lost files`. */
export function finalLine(rows: readonly Row[]): string {
  const sum = (key: 'crashes' | 'wrong' | 'lost') => rows.reduce((total, row) => total + row[key], 0);
  return `stress: ${rows.length} attacks, ${sum('crashes')} crashes, ${sum('wrong')} wrong answers, ${sum('lost')} lost files`;
}
