import { waitFor } from '../../ci/util/wait.js';

/**
 * Polls `check` (real time, every 25 ms) until it returns something other than undefined; thrown errors
 * count as not yet, and the last one is in the timeout's message with `what`.
 */
export function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  return waitFor(what, check, { timeoutMs, intervalMs: 25 });
}
