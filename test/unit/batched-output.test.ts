import { describe, expect, it } from 'vitest';
import { BatchedOutput, MAX_BATCH_CHARS } from '../../io/batched-output.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchedOutput', () => {
  it('writes what a turn pushed in one write at the end of the turn, in order', async () => {
    const writes: string[] = [];
    const out = new BatchedOutput((text) => writes.push(text));
    for (let i = 0; i < 1000; i++) out.push(`line ${i}\n`);
    expect(writes).toEqual([]);
    expect(out.pendingChars).toBeGreaterThan(0);
    await turn();
    expect(writes).toEqual([Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join('')]);
    out.push('next\n');
    await turn();
    expect(writes[1]).toBe('next\n');
    expect(out.pendingChars).toBe(0);
  });

  it('writes at once past MAX_BATCH_CHARS, and flush() writes the rest: nothing lost or reordered', async () => {
    const writes: string[] = [];
    const out = new BatchedOutput((text) => writes.push(text));
    const line = `${'x'.repeat(999)}\n`;
    const count = Math.ceil((3 * MAX_BATCH_CHARS) / line.length) + 7;
    for (let i = 0; i < count; i++) out.push(`${String(i).padStart(6, '0')}${line}`);
    // Within the turn: the bound made it write, each write at most a bound and a line.
    expect(writes.length).toBeGreaterThanOrEqual(3);
    for (const text of writes) expect(text.length).toBeLessThan(MAX_BATCH_CHARS + 1100);
    out.flush();
    const lines = writes.join('').split('\n').slice(0, -1);
    expect(lines.map((text) => Number(text.slice(0, 6)))).toEqual(Array.from({ length: count }, (_, i) => i));
    await turn();
    expect(writes.join('').length).toBe(count * 1006);
  });
});
