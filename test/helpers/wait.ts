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
 * Waits until `ms` milliseconds have passed since `since` (a performance.now() reading): for
 * rules that are spans of time themselves (a probe's freshness window), which no event marks.
 */
export function waitSince(since: number, ms: number, what: string): Promise<void> {
  return waitUntil(() => performance.now() - since > ms, `${ms} ms to pass since ${what}`, ms + 10_000);
}
