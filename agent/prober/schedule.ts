/**
 * When a probe worker iterates (pure; the running prober feeds these to its Clock). Upstream runs one
 * iteration at once and then one per periodSeconds tick; `initialDelaySeconds` is only a skip
 * condition, so the first executed probe could come up to a whole period after the delay elapsed, and
 * a kubelet that started less than a period ago first sleeps a random fraction of a period — with
 * `periodSeconds: 3600` a new pod on a new node could wait most of an hour (kubernetes #118396). This
 * reference kubelet keeps the tick-driven worker but schedules so that the delay is honoured exactly.
 */

/**
 * Seconds from worker creation to its first iteration. The random spread exists to avoid a burst of
 * probes after a kubelet restart, so it applies only to a container that was already running when the
 * kubelet started (and only while the kubelet is younger than one period); a new container is probed
 * at once. `random` is a caller-supplied sample in [0, 1).
 */
export function firstIterationDelaySeconds(input: {
  readonly periodSeconds: number;
  readonly kubeletUptimeSeconds: number;
  readonly containerRunningAtKubeletStart: boolean;
  readonly random: number;
}): number {
  if (!input.containerRunningAtKubeletStart || input.periodSeconds <= input.kubeletUptimeSeconds) return 0;
  return Math.min(Math.max(input.random, 0), 1) * input.periodSeconds;
}

/**
 * The time of the next iteration after one at `now`: one period later, or earlier when the iteration
 * was skipped for initialDelaySeconds and that delay elapses sooner (`initialDelayUntil` from the worker).
 */
export function nextIterationAt(now: number, periodSeconds: number, initialDelayUntil: number | null = null): number {
  const periodic = now + periodSeconds;
  if (initialDelayUntil === null || initialDelayUntil <= now) return periodic;
  return Math.min(periodic, initialDelayUntil);
}
