import type { V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../clock/clock.js';
import { terminationPrerequisites } from './termination-order.js';

/**
 * The waiting half of sidecar termination ordering for one pod kill: each container's kill asks for its
 * turn before StopContainer and reports its container terminated after it. The order itself comes from
 * terminationPrerequisites; the only timer is the caller's remaining grace period, on the injected clock.
 */
export class TerminationOrderGate {
  private readonly terminated = new Map<string, { readonly done: Promise<void>; readonly resolve: () => void }>();
  private readonly prerequisites: Map<string, string[]>;

  constructor(
    pod: V1Pod,
    runningNames: readonly string[],
    private readonly clock: Clock,
  ) {
    this.prerequisites = terminationPrerequisites(pod, runningNames);
    for (const name of runningNames) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      this.terminated.set(name, { done, resolve });
    }
  }

  /**
   * Resolves when every container `name` waits for has terminated, or when `graceSeconds` ran out first
   * (the container is then stopped anyway, as upstream). Returns the seconds waited (fractional); the
   * caller subtracts their whole part from the grace period. No grace left means no wait.
   */
  async waitForTurn(name: string, graceSeconds: number): Promise<number> {
    const waitsFor = (this.prerequisites.get(name) ?? []).map((n) => this.terminated.get(n)?.done ?? Promise.resolve());
    if (graceSeconds <= 0 || waitsFor.length === 0) return 0;
    const started = this.clock.monotonic();
    let timer: { cancel(): void } | undefined;
    const expired = new Promise<void>((resolve) => (timer = this.clock.setTimeout(resolve, graceSeconds * 1000)));
    try {
      await Promise.race([Promise.all(waitsFor), expired]);
    } finally {
      timer?.cancel();
    }
    return (this.clock.monotonic() - started) / 1000;
  }

  /** The container `name` has stopped (StopContainer returned, or the runtime no longer knew it). */
  containerTerminated(name: string): void {
    this.terminated.get(name)?.resolve();
  }
}
