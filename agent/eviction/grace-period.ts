/**
 * The termination grace period an eviction imposes (kubelet-semantics §5.5 step 6, [version]
 * current master): 1 s for a hard threshold; for a soft one evictionMaxPodGracePeriod, capped at the
 * pod's own terminationGracePeriodSeconds when it sets one. Container stops still get the 2 s floor
 * of killContainer.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { isHardEvictionThreshold, type Threshold } from './thresholds.js';

/** Upstream immediateEvictionGracePeriodSeconds (older releases used 0). */
export const IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS = 1;

/**
 * @example evictionGracePeriodOverride(softThreshold, pod, 60) // 30 when pod.spec.terminationGracePeriodSeconds is 30
 */
export function evictionGracePeriodOverride(threshold: Threshold, pod: V1Pod, maxPodGracePeriodSeconds: number): number {
  if (isHardEvictionThreshold(threshold)) return IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS;
  const own = pod.spec?.terminationGracePeriodSeconds;
  return own === undefined || own === null ? maxPodGracePeriodSeconds : Math.min(maxPodGracePeriodSeconds, own);
}
