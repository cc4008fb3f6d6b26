/**
 * Linux default `evictionHard` (upstream eviction/defaults_linux.go, kubelet-semantics §5.3): used
 * only when the setting is absent; any explicit map replaces it as a whole.
 */
export const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = Object.freeze({
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
});

/** Default `enforceNodeAllocatable`: only the pods cgroup, which mirrors memory.available hard thresholds. */
export const DEFAULT_ENFORCE_NODE_ALLOCATABLE: readonly string[] = Object.freeze(['pods']);

/** Default evictionPressureTransitionPeriod: 5 minutes. */
export const DEFAULT_PRESSURE_TRANSITION_PERIOD_SECONDS = 300;
