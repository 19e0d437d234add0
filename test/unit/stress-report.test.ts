/**
 * What `npm run test:stress` prints and decides from its counts (test/stress/report.ts) and which
 * profile a run uses (test/stress/profile.ts): a run with one crash, one wrong answer or one lost
 * file must not end with a clean line or exit 0.
 */
import { describe, expect, it } from 'vitest';
import { chooseProfile, PROFILES } from '../stress/profile.ts';
import { finalLine, formatTable, Row } from '../stress/report.ts';

function row(attack: string, tries: number, survived: number): Row {
  const made = new Row(attack);
  made.tries = tries;
  made.survived = survived;
  return made;
}

describe('the stress report', () => {
  it('counts crashes, wrong answers and lost files apart, each making its row unclean', () => {
    const calm = row('idle', 300, 300);
    const crashed = row('flood', 10, 9);
    crashed.crash('the server exited with code 1');
    const wrong = row('frames', 5, 4);
    expect(wrong.check(true, () => 'never said')).toBe(true);
    expect(wrong.check(false, () => 'LIST answered 2 entries, not 3')).toBe(false);
    const lost = row('kills', 20, 19);
    lost.lostFile('a.bin has another SHA-256');
    lost.lostFile('b.bin is missing');
    expect([calm, crashed, wrong, lost].map((each) => each.clean)).toEqual([true, false, false, false]);
    expect(finalLine([calm, crashed, wrong, lost])).toBe(
      'stress: 4 attacks, 1 crashes, 1 wrong answers, 2 lost files',
    );
    expect(finalLine([calm])).toBe('stress: 1 attacks, 0 crashes, 0 wrong answers, 0 lost files');
    expect(wrong.details).toEqual(['wrong: LIST answered 2 entries, not 3']);
  });

  it('prints one markdown row per attack: tries, survived, lost and wrong together, notes', () => {
    const flood = row('chat server: flood | past its cap', 100_000, 99_998);
    flood.wrongAnswer('no refusal line');
    flood.lostFile('x');
    flood.crash('died');
    flood.note('p99 3.0 ms');
    expect(formatTable([flood])).toEqual([
      '| attack | tries | survived | lost or wrong | notes |',
      '|---|---:|---:|---:|---|',
      '| chat server: flood \\| past its cap | 100,000 | 99,998 | 2 | 1 crashed; p99 3.0 ms |',
    ]);
  });

  it('keeps a few details of each row, however many problems it counts', () => {
    const noisy = new Row('noisy');
    for (let i = 0; i < 50; i++) noisy.wrongAnswer(`answer ${i}`);
    expect(noisy.wrong).toBe(50);
    expect(noisy.details.length).toBeLessThanOrEqual(5);
    expect(noisy.details[0]).toBe('wrong: answer 0');
  });
});

describe('the stress profile', () => {
  it('is full unless --profile or STRESS_PROFILE says short; the flag wins', () => {
    expect(chooseProfile(undefined, undefined).name).toBe('full');
    expect(chooseProfile(undefined, '').name).toBe('full');
    expect(chooseProfile(undefined, 'short').name).toBe('short');
    expect(chooseProfile('full', 'short').name).toBe('full');
    expect(chooseProfile('short', undefined).name).toBe('short');
    for (const bad of ['Full', 'long', 'toString', '__proto__'])
      expect(() => chooseProfile(bad, undefined)).toThrow(/short or full/);
    expect(() => chooseProfile(undefined, 'quick')).toThrow(/short or full, not "quick"/);
  });

  it('the full profile makes the counts the suite is specified with', () => {
    const full = PROFILES.full;
    expect(full.indexFrames).toBeGreaterThanOrEqual(100_000);
    expect(full.krpcDatagrams).toBeGreaterThanOrEqual(100_000);
    expect(full.uploaderKills).toBeGreaterThanOrEqual(20);
    expect(full.downloaderKills).toBeGreaterThanOrEqual(10);
    expect(full.indexRestarts).toBeGreaterThanOrEqual(5);
  });

  it('the short profile keeps every attack, each at least once', () => {
    for (const [key, value] of Object.entries(PROFILES.short))
      if (typeof value === 'number') expect(value, key).toBeGreaterThan(0);
  });
});
