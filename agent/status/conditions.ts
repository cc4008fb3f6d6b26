import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { containersOf, initContainersOf, isRestartableInitContainer } from '../kuberuntime/pod-helpers.js';
import { hasAnyRegularContainerStarted, type PodPhase } from './phase.js';

/** The pod conditions the kubelet owns (upstream pkg/kubelet/status/generate.go, semantics §4.6). */

export const POD_READY_TO_START_CONTAINERS = 'PodReadyToStartContainers';
export const POD_INITIALIZED = 'Initialized';
export const CONTAINERS_READY = 'ContainersReady';
export const POD_READY = 'Ready';
export const POD_SCHEDULED = 'PodScheduled';
export const DISRUPTION_TARGET = 'DisruptionTarget';

export const KUBELET_OWNED_CONDITIONS: ReadonlySet<string> = new Set([
  POD_SCHEDULED,
  POD_READY,
  POD_INITIALIZED,
  CONTAINERS_READY,
  POD_READY_TO_START_CONTAINERS,
]);

/** Go's %s of a []string: "[a b]". */
function goList(names: readonly string[]): string {
  return `[${names.join(' ')}]`;
}

function statusOf(statuses: readonly V1ContainerStatus[], name: string): V1ContainerStatus | undefined {
  return statuses.find((s) => s.name === name);
}

export function podReadyToStartContainersCondition(sandboxReady: boolean): V1PodCondition {
  return { type: POD_READY_TO_START_CONTAINERS, status: sandboxReady ? 'True' : 'False' };
}

export function containersReadyCondition(
  pod: V1Pod,
  statuses: readonly V1ContainerStatus[],
  phase: PodPhase,
): V1PodCondition {
  const unknown: string[] = [];
  const unready: string[] = [];
  const visit = (name: string): void => {
    const s = statusOf(statuses, name);
    if (!s) unknown.push(name);
    else if (!s.ready) unready.push(name);
  };
  for (const c of initContainersOf(pod)) if (isRestartableInitContainer(c)) visit(c.name);
  for (const c of containersOf(pod)) visit(c.name);

  if (phase === 'Succeeded' && unknown.length === 0) {
    return { type: CONTAINERS_READY, status: 'False', reason: 'PodCompleted' };
  }
  if (phase === 'Failed') {
    return { type: CONTAINERS_READY, status: 'False', reason: 'PodFailed' };
  }
  const messages: string[] = [];
  if (unknown.length > 0) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (unready.length > 0) messages.push(`containers with unready status: ${goList(unready)}`);
  if (messages.length > 0) {
    return { type: CONTAINERS_READY, status: 'False', reason: 'ContainersNotReady', message: messages.join(', ') };
  }
  return { type: CONTAINERS_READY, status: 'True' };
}

export function podReadyCondition(
  pod: V1Pod,
  otherConditions: readonly V1PodCondition[],
  statuses: readonly V1ContainerStatus[],
  phase: PodPhase,
): V1PodCondition {
  const containersReady = containersReadyCondition(pod, statuses, phase);
  if (containersReady.status !== 'True') {
    const c: V1PodCondition = { type: POD_READY, status: containersReady.status };
    if (containersReady.reason !== undefined) c.reason = containersReady.reason;
    if (containersReady.message !== undefined) c.message = containersReady.message;
    return c;
  }
  const messages: string[] = [];
  for (const gate of pod.spec?.readinessGates ?? []) {
    const c = otherConditions.find((x) => x.type === gate.conditionType);
    if (!c) {
      messages.push(`corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`);
    } else if (c.status !== 'True') {
      messages.push(`the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`);
    }
  }
  if (messages.length > 0) {
    return { type: POD_READY, status: 'False', reason: 'ReadinessGatesNotReady', message: messages.join(', ') };
  }
  return { type: POD_READY, status: 'True' };
}

export function podInitializedCondition(
  pod: V1Pod,
  statuses: readonly V1ContainerStatus[],
  phase: PodPhase,
): V1PodCondition {
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of initContainersOf(pod)) {
    const s = statusOf(statuses, c.name);
    if (!s) {
      unknown.push(c.name);
      continue;
    }
    if (isRestartableInitContainer(c)) {
      if (s.started !== true) incomplete.push(c.name);
    } else if (!s.ready) {
      incomplete.push(c.name);
    }
  }
  if (phase === 'Succeeded' && unknown.length === 0) {
    return { type: POD_INITIALIZED, status: 'True', reason: 'PodCompleted' };
  }
  // Once a regular container ran, initialization happened (sidecars may be restarting since).
  if (hasAnyRegularContainerStarted(pod, statuses)) {
    return { type: POD_INITIALIZED, status: 'True' };
  }
  const messages: string[] = [];
  if (unknown.length > 0) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (incomplete.length > 0) messages.push(`containers with incomplete status: ${goList(incomplete)}`);
  if (messages.length > 0) {
    return { type: POD_INITIALIZED, status: 'False', reason: 'ContainersNotInitialized', message: messages.join(', ') };
  }
  return { type: POD_INITIALIZED, status: 'True' };
}

export function podScheduledCondition(): V1PodCondition {
  return { type: POD_SCHEDULED, status: 'True' };
}
