/**
 * Eviction admission (kubelet-semantics §5.9, upstream eviction manager Admit): what a node under
 * pressure accepts.
 */
import type { V1Pod, V1Toleration } from '@kubernetes/client-node';
import { podQOSClass } from '../resources/qos.js';
import type { FeatureGateOptions } from '../resources/pod-requests.js';
import { isCriticalPod } from './ranking.js';
import type { PressureCondition } from './signals.js';

export type EvictionAdmitResult =
  | { readonly admit: true }
  | { readonly admit: false; readonly reason: 'Evicted'; readonly message: string };

const MEMORY_PRESSURE_TAINT = { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule', value: '' } as const;

/** Upstream Toleration.ToleratesTaint for the memory-pressure taint. */
function toleratesMemoryPressure(toleration: V1Toleration): boolean {
  if (toleration.effect !== undefined && toleration.effect !== '' && toleration.effect !== MEMORY_PRESSURE_TAINT.effect) return false;
  if (toleration.key !== undefined && toleration.key !== '' && toleration.key !== MEMORY_PRESSURE_TAINT.key) return false;
  const operator = toleration.operator ?? '';
  if (operator === '' || operator === 'Equal') return (toleration.value ?? '') === MEMORY_PRESSURE_TAINT.value;
  return operator === 'Exists';
}

/**
 * No pressure: admit. Critical pods: admit. Only MemoryPressure: admit unless the pod is BestEffort
 * and does not tolerate the memory-pressure taint. Any other pressure: reject.
 * @example evictionAdmit(bestEffortPod, { nodeConditions: ['DiskPressure'] })
 *   // { admit: false, reason: 'Evicted', message: 'The node had condition: [DiskPressure]. ' }
 */
export function evictionAdmit(
  pod: V1Pod,
  node: { readonly nodeConditions: readonly PressureCondition[] },
  options?: FeatureGateOptions,
): EvictionAdmitResult {
  const conditions = node.nodeConditions;
  if (conditions.length === 0) return { admit: true };
  if (isCriticalPod(pod)) return { admit: true };
  if (conditions.length === 1 && conditions[0] === 'MemoryPressure') {
    if (podQOSClass(pod, options) !== 'BestEffort') return { admit: true };
    if ((pod.spec?.tolerations ?? []).some(toleratesMemoryPressure)) return { admit: true };
  }
  return { admit: false, reason: 'Evicted', message: `The node had condition: [${conditions.join(' ')}]. ` };
}
