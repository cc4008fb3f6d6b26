import type { V1Container, V1Pod } from '@kubernetes/client-node';

/** Small readers over a pod spec that several pure modules share. */

export type PodRestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** spec.restartPolicy with the API default (Always). */
export function restartPolicyOf(pod: V1Pod): PodRestartPolicy {
  const p = pod.spec?.restartPolicy;
  return p === 'OnFailure' || p === 'Never' ? p : 'Always';
}

/** An init container with restartPolicy Always is a sidecar (restartable init container). */
export function isRestartableInitContainer(container: V1Container): boolean {
  return container.restartPolicy === 'Always';
}

export function initContainersOf(pod: V1Pod): V1Container[] {
  return pod.spec?.initContainers ?? [];
}

export function containersOf(pod: V1Pod): V1Container[] {
  return pod.spec?.containers ?? [];
}

export function isHostNetwork(pod: V1Pod): boolean {
  return pod.spec?.hostNetwork === true;
}

/** Pods are restarted on failure unless restartPolicy is Never (upstream shouldRestartOnFailure). */
export function shouldRestartOnFailure(pod: V1Pod): boolean {
  return restartPolicyOf(pod) !== 'Never';
}

export function podUid(pod: V1Pod): string {
  return pod.metadata?.uid ?? '';
}

export function podName(pod: V1Pod): string {
  return pod.metadata?.name ?? '';
}

export function podNamespace(pod: V1Pod): string {
  return pod.metadata?.namespace ?? 'default';
}

export function isBeingDeleted(pod: V1Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
}

/** Config source annotation the kubelet puts on static pods (kubernetes.io/config.source). */
export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';

export function isStaticPod(pod: V1Pod): boolean {
  const source = pod.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION];
  return source !== undefined && source !== 'api';
}

export function isMirrorPod(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] !== undefined;
}

/** Priority at and above which a pod is system-critical (scheduling.SystemCriticalPriority). */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

export function isCriticalPod(pod: V1Pod): boolean {
  if (isStaticPod(pod) || isMirrorPod(pod)) return true;
  const priority = pod.spec?.priority;
  return priority !== undefined && priority >= SYSTEM_CRITICAL_PRIORITY;
}

export function isNodeCriticalPod(pod: V1Pod): boolean {
  return isCriticalPod(pod) && pod.spec?.priorityClassName === 'system-node-critical';
}
