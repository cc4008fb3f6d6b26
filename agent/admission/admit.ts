import type { V1Pod } from '@kubernetes/client-node';
import { evictionAdmit } from '../eviction/admission.js';
import type { PressureCondition } from '../eviction/signals.js';
import { podFitsResources } from '../resources/admission.js';
import { validatePodForKubelet } from './validate-pod.js';

/**
 * The kubelet's admission of a newly seen pod (upstream HandlePodAdditions → canAdmitPod): spec checks,
 * eviction admission under node pressure, then the resource fit (pods/maxPods, cpu, memory, extended
 * resources) against node allocatable and the pods already admitted. A rejected pod becomes Failed
 * with the reason (OutOfcpu, OutOfpods, Evicted, ...) and "Pod was rejected: <message>".
 */

export type AdmitResult = { readonly admit: true } | { readonly admit: false; readonly reason: string; readonly message: string };

export interface AdmitContext {
  readonly allocatable: Readonly<Record<string, string>>;
  /** Pods already admitted and not terminal. */
  readonly admittedPods: readonly V1Pod[];
  readonly nodeConditions: readonly PressureCondition[];
}

export function admitPod(pod: V1Pod, context: AdmitContext): AdmitResult {
  const invalid = validatePodForKubelet(pod);
  if (invalid) return { admit: false, reason: 'UnexpectedAdmissionError', message: invalid };
  const eviction = evictionAdmit(pod, { nodeConditions: context.nodeConditions });
  if (!eviction.admit) return { admit: false, reason: eviction.reason, message: eviction.message };
  try {
    const fit = podFitsResources(pod, { allocatable: context.allocatable, admittedPods: context.admittedPods });
    if (!fit.admit) return { admit: false, reason: fit.reason, message: fit.message };
  } catch (e) {
    return { admit: false, reason: 'UnexpectedAdmissionError', message: (e as Error).message };
  }
  return { admit: true };
}
