/**
 * Pacing for the stress suite (its bounded waits are test/helpers/wait.ts's withDeadline: a hung
 * attack is a failure with a message, never a hang).
 */

/**
 * Pacing, not waiting: an attacker's or a well-behaved client's own rhythm (a request every so
 * often), which no event of the system under test marks.
 */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
