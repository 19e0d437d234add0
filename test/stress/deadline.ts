/**
 * Bounded waits for the stress suite: every await on another process or socket has a deadline
 * whose error says what was awaited, so a hung attack is a failure with a message, never a hang.
 */

/** Resolves or rejects as `promise` does, or rejects after `ms` with `what` in the message. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Pacing, not waiting: an attacker's or a well-behaved client's own rhythm (a request every so
 * often), which no event of the system under test marks.
 */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `items` awaited `limit` at a time (thousands of connects at once would overflow a backlog). */
export async function inBatches<T, R>(
  items: T[],
  limit: number,
  each: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit)
    out.push(...(await Promise.all(items.slice(i, i + limit).map(each))));
  return out;
}
