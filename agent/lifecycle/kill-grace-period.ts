import type { V1Pod, V1Probe } from '@kubernetes/client-node';
import { expectNumber } from '../util/invalid-input.js';

/** Why a container is being killed; eviction carries the eviction manager's override inputs. */
export type KillReason =
  | 'LivenessProbe'
  | 'StartupProbe'
  /** Pod deletion/termination, spec change, failed postStart… anything without an override. */
  | 'Other'
  | { readonly eviction: 'hard' | 'localStorage' }
  | { readonly eviction: 'soft'; readonly maxPodGracePeriodSeconds: number };

/** API default of `spec.terminationGracePeriodSeconds`. */
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
/** Floor of the timeout handed to CRI StopContainer (`minimumGracePeriodInSeconds`). */
export const MINIMUM_STOP_GRACE_PERIOD_SECONDS = 2;
/** Override for hard-threshold and local-storage evictions (current master). */
export const IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS = 1;

/**
 * The grace period the kubelet gives a container it kills (semantics §4.7, §2.4, §5.5): the budget for
 * preStop plus SIGTERM, before `stopContainerTimeoutSeconds` subtracts preStop time and floors it.
 *
 * 1. `metadata.deletionGracePeriodSeconds` if set;
 * 2. else for a liveness/startup kill the probe's `terminationGracePeriodSeconds` if set (it may exceed the pod's);
 * 3. else `spec.terminationGracePeriodSeconds` (30 when absent);
 * 4. an eviction replaces all that: hard/local-storage 1 s; soft min(maxPodGracePeriodSeconds, pod's own),
 *    and a negative maxPodGracePeriodSeconds defers to the pod (documented flag behaviour; kubernetes
 *    #118172 — upstream passed the negative value through and the runtime killed at once).
 *
 * Throws InvalidInputError for negative or fractional grace fields, naming them.
 *
 * @example killGracePeriodSeconds({ spec: { containers: [], terminationGracePeriodSeconds: 60 } }, 'LivenessProbe', { terminationGracePeriodSeconds: 5 }) // → 5
 */
export function killGracePeriodSeconds(pod: V1Pod, reason: KillReason, probe?: V1Probe): number {
  const deletionGrace = optionalSeconds(pod.metadata?.deletionGracePeriodSeconds, 'metadata.deletionGracePeriodSeconds', 0);
  const podGrace =
    optionalSeconds(pod.spec?.terminationGracePeriodSeconds, 'spec.terminationGracePeriodSeconds', 0) ??
    DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  if (typeof reason === 'object') {
    if (reason.eviction !== 'soft') return IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS;
    const max = expectNumber(reason.maxPodGracePeriodSeconds, 'reason.maxPodGracePeriodSeconds', { integer: true });
    if (max >= 0) return Math.min(max, podGrace);
    // Negative: no override at all, so the kill takes the pod's own path.
  }
  if (deletionGrace !== undefined) return deletionGrace;
  if ((reason === 'LivenessProbe' || reason === 'StartupProbe') && probe !== undefined) {
    const probeGrace = optionalSeconds(probe.terminationGracePeriodSeconds, 'probe.terminationGracePeriodSeconds', 1);
    if (probeGrace !== undefined) return probeGrace;
  }
  return podGrace;
}

/**
 * The timeout passed to CRI `StopContainer`: the grace period minus the whole seconds the preStop hook
 * (and any sidecar-ordering wait) took, never below 2 s.
 */
export function stopContainerTimeoutSeconds(gracePeriodSeconds: number, elapsedSeconds = 0): number {
  return Math.max(MINIMUM_STOP_GRACE_PERIOD_SECONDS, gracePeriodSeconds - Math.trunc(elapsedSeconds));
}

function optionalSeconds(value: number | undefined | null, field: string, min: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  return expectNumber(value, field, { integer: true, min });
}
