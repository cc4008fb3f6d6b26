import { realClock, type Clock } from '../../agent/clock/index.js';

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly clock?: Clock;
  /** Checked between attempts: a reason to stop waiting early (e.g. the daemon exited). */
  readonly abortIf?: () => string | undefined;
}

/**
 * Polls `check` until it returns a value other than undefined. Errors thrown by `check` count as "not yet";
 * the last one is reported when the time is up.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, options: WaitOptions): Promise<T> {
  const clock = options.clock ?? realClock;
  const deadline = clock.monotonic() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    const abort = options.abortIf?.();
    if (abort !== undefined) throw new Error(`${what}: ${abort}`);
    if (clock.monotonic() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`${what}: not ready after ${options.timeoutMs} ms${detail}`);
    }
    await clock.sleep(options.intervalMs ?? 50);
  }
}
