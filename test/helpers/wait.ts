/**
 * Waits for a state change that has no event of its own (e.g. a server noticing a close), by
 * checking after each turn of the event loop; fails after `timeoutMs` with `what` in the message.
 */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * `promise`, or a rejection after `timeoutMs` saying what was awaited: an event that never comes
 * fails the test with its own message instead of the test runner's bare timeout.
 */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Waits until `ms` milliseconds have passed since `since` (a performance.now() reading): for
 * rules that are spans of time themselves (a probe's freshness window), which no event marks.
 */
export function waitSince(since: number, ms: number, what: string): Promise<void> {
  return waitUntil(() => performance.now() - since > ms, `${ms} ms to pass since ${what}`, ms + 10_000);
}
