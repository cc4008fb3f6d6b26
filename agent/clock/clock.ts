/**
 * The one source of time for the agent and the fakes.
 *
 * Every timer in the agent (probe periods, backoff, eviction monitoring, heartbeats) and every scripted
 * behaviour of the fakes goes through a Clock, so the same code runs in real time against containerd
 * and in virtual time under property tests.
 */
export interface TimerHandle {
  /** Cancels the timer; a no-op when it already fired or was cancelled. */
  cancel(): void;
}

export interface Clock {
  /** Wall-clock time in milliseconds since the Unix epoch (what lands in API timestamps). */
  now(): number;
  /** Monotonic milliseconds (fractional) from an arbitrary origin; only differences mean anything. */
  monotonic(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Runs `fn` every `ms` milliseconds until cancelled. */
  setInterval(fn: () => void, ms: number): TimerHandle;
  /** Resolves after `ms` milliseconds; rejects with the signal's reason when aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Shared implementation of `sleep` on top of `setTimeout`, so both clocks abort the same way. */
export function sleepOn(clock: Pick<Clock, 'setTimeout'>, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(abortReason(signal as AbortSignal));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}
