import type { V1ContainerStatus, V1PodCondition, V1PodStatus, V1ResourceRequirements } from '@kubernetes/client-node';
import { milliCpuToQuota, milliCpuToShares } from '../kuberuntime/cpu-memory.js';
import { sharesToMilliCpu } from '../kuberuntime/pod-resize.js';
import { findContainerStatus, type RuntimeContainerResources, type RuntimePodStatus } from '../kuberuntime/runtime-status.js';
import { Quantity } from '../resources/quantity.js';
import { parseResourceList } from '../resources/resource-list.js';
import type { PodAllocation } from './allocation.js';

/**
 * The resize fields of a pod's status (upstream kubelet_pods.go convertContainerStatusResources and the
 * status manager's resize conditions): per running container `allocatedResources` (the allocated
 * requests) and `resources` (what the runtime applied, read back from its cgroup settings, keeping the
 * allocated spelling where the runtime's value stands for it), plus PodResizePending and
 * PodResizeInProgress in place of whatever the API showed.
 */

export const POD_RESIZE_PENDING = 'PodResizePending';
export const POD_RESIZE_IN_PROGRESS = 'PodResizeInProgress';

/** Status generation asks for every running container on every sync: kept per allocation object and figures. */
const appliedCache = new WeakMap<V1ResourceRequirements, { readonly key: string; readonly value: V1ResourceRequirements }>();

/** `resources` of a running container from the runtime's settings, defaulting to the allocation. */
export function appliedResources(allocated: V1ResourceRequirements, actual: RuntimeContainerResources | undefined, field: string): V1ResourceRequirements {
  const key = actual === undefined ? '' : `${actual.cpuShares}/${actual.cpuQuota}/${actual.cpuPeriod}/${actual.memoryLimitInBytes}`;
  const hit = appliedCache.get(allocated);
  if (hit !== undefined && hit.key === key) return structuredClone(hit.value);
  const value = computeApplied(allocated, actual, field);
  appliedCache.set(allocated, { key, value });
  return structuredClone(value);
}

function computeApplied(allocated: V1ResourceRequirements, actual: RuntimeContainerResources | undefined, field: string): V1ResourceRequirements {
  const requests: Record<string, string> = { ...(allocated.requests ?? {}) };
  const limits: Record<string, string> = { ...(allocated.limits ?? {}) };
  if (actual !== undefined) {
    const req = parseResourceList(allocated.requests, `${field}.requests`);
    const lim = parseResourceList(allocated.limits, `${field}.limits`);
    // cpu request: the shares stand for the allocated request when it converts to them.
    if (req.cpu !== undefined || actual.cpuShares > 2) {
      if (req.cpu === undefined || milliCpuToShares(req.cpu.milliValue()) !== actual.cpuShares) {
        requests['cpu'] = Quantity.fromMilli(BigInt(sharesToMilliCpu(actual.cpuShares)), 'DecimalSI').toString();
      }
    }
    if (actual.cpuQuota > 0 && actual.cpuPeriod > 0) {
      if (lim.cpu === undefined || milliCpuToQuota(lim.cpu.milliValue(), actual.cpuPeriod) !== actual.cpuQuota) {
        limits['cpu'] = Quantity.fromMilli(BigInt(Math.ceil((actual.cpuQuota * 1000) / actual.cpuPeriod)), 'DecimalSI').toString();
      }
    } else if (lim.cpu !== undefined && actual.cpuQuota <= 0) delete limits['cpu'];
    if (actual.memoryLimitInBytes > 0) {
      if (lim.memory === undefined || lim.memory.value() !== BigInt(actual.memoryLimitInBytes)) {
        limits['memory'] = Quantity.fromBigInt(BigInt(actual.memoryLimitInBytes), 'BinarySI').toString();
      }
    } else if (lim.memory !== undefined) delete limits['memory'];
  }
  const out: V1ResourceRequirements = {};
  if (Object.keys(requests).length > 0) out.requests = requests;
  if (Object.keys(limits).length > 0) out.limits = limits;
  return out;
}

function annotate(statuses: V1ContainerStatus[] | undefined, allocation: PodAllocation, runtime: RuntimePodStatus, field: string): void {
  for (const cs of statuses ?? []) {
    const allocated = allocation.get(cs.name);
    if (allocated === undefined) continue;
    if (allocated.requests && Object.keys(allocated.requests).length > 0) cs.allocatedResources = { ...allocated.requests };
    if (!cs.state?.running) continue;
    const latest = findContainerStatus(runtime, cs.name);
    const applied = appliedResources(allocated, latest?.state === 'running' ? latest.resources : undefined, `${field} ${cs.name}`);
    if (applied.requests || applied.limits) cs.resources = applied;
  }
}

/** The status with the resize fields filled in; `conditions` are the resize conditions the kubelet holds now. */
export function applyResizeStatus(status: V1PodStatus, allocation: PodAllocation | undefined, runtime: RuntimePodStatus, conditions: readonly V1PodCondition[]): V1PodStatus {
  if (allocation !== undefined) {
    annotate(status.containerStatuses, allocation, runtime, 'container');
    annotate(status.initContainerStatuses, allocation, runtime, 'init container');
  }
  const kept = (status.conditions ?? []).filter((c) => c.type !== POD_RESIZE_PENDING && c.type !== POD_RESIZE_IN_PROGRESS);
  status.conditions = [...kept, ...conditions.map((c) => ({ ...c }))];
  return status;
}

/** Same resize conditions, transition times aside. */
export function resizeConditionsEqual(a: readonly V1PodCondition[], b: readonly V1PodCondition[]): boolean {
  const key = (c: V1PodCondition) => `${c.type}|${c.status}|${c.reason ?? ''}|${c.message ?? ''}|${c.observedGeneration ?? ''}`;
  return a.length === b.length && a.every((c, i) => key(c) === key(b[i]!));
}
