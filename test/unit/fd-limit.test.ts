import { describe, expect, it } from 'vitest';
import { connectionCap, FD_RESERVE, parseOpenFilesLimit } from '../../server/fd-limit.ts';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             63434                63434                processes
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('file-descriptor limit', () => {
  it("reads the soft limit on open files from /proc/self/limits' text", () => {
    expect(parseOpenFilesLimit(LIMITS)).toBe(1024);
    expect(parseOpenFilesLimit(LIMITS.replace('1024 ', 'unlimited '))).toBeUndefined();
    expect(parseOpenFilesLimit('Max processes 5 5 processes\n')).toBeUndefined();
  });

  it('the default cap is lowered to fit the limit, with a note; kept when it fits', () => {
    expect(connectionCap(20_000, 16_384)).toEqual({ maxConnections: 16_384 });
    expect(connectionCap(16_384 + FD_RESERVE, 16_384)).toEqual({ maxConnections: 16_384 });
    const lowered = connectionCap(1024, 16_384);
    expect(lowered.maxConnections).toBe(1024 - FD_RESERVE);
    expect(lowered.warning).toBeUndefined();
    expect(lowered.note).toBe(
      `at most ${1024 - FD_RESERVE} connections (not 16384): this process may open 1024 files; raise ulimit -n to ${16_384 + FD_RESERVE} for the full default`,
    );
    expect(connectionCap(undefined, 16_384)).toEqual({ maxConnections: 16_384 });
  });

  it('a cap given above the limit is kept, with a warning saying what to do', () => {
    expect(connectionCap(1024, 16_384, 500)).toEqual({ maxConnections: 500 });
    expect(connectionCap(1024, 16_384, 1024 - FD_RESERVE)).toEqual({ maxConnections: 1024 - FD_RESERVE });
    const over = connectionCap(1024, 16_384, 10_000);
    expect(over.maxConnections).toBe(10_000);
    expect(over.warning).toBe(
      `--max-connections 10000 needs about ${10_000 + FD_RESERVE} file descriptors but this process may open 1024: raise the limit (ulimit -n ${10_000 + FD_RESERVE}) or lower --max-connections to ${1024 - FD_RESERVE}, or newcomers past the limit are dropped without a reply.`,
    );
  });
});
