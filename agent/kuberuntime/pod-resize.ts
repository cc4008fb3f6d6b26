import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { containersOf, initContainersOf, isRestartableInitContainer } from './pod-helpers.js';
import { containerLinuxResources, type CriLinuxResources, type CriResourceOptions } from './resources.js';
import { findContainerStatus, type RuntimeContainerResources, type RuntimePodStatus } from './runtime-status.js';

/**
 * In-place resize of running containers, the pure part (upstream kuberuntime_manager.go
 * computePodResizeAction and doPodResizeAction, Kubernetes 1.35): what a running container's cgroup
 * settings should be for the allocated spec, whether a difference restarts it (resizePolicy
 * RestartContainer for a resource that changed) or is applied with UpdateContainerResources, and in
 * which order — per resource, memory before cpu; the pod cgroup before the containers when the pod's
 * total grows and after them when it shrinks; within a resource, containers that shrink before those
 * that grow, so the pod's total never overshoots on the way.
 *
 * Desired and actual are compared as the CRI sees them (shares, quota, memory limit): the runtime
 * reports what it applied in that form, and comparing it there avoids a milli-CPU round trip.
 */

export type ResizeResource = 'memory' | 'cpu';
export type ResizeDecision = 'none' | 'update' | 'restart';

/** The settings a resize changes, as the runtime reports them back. */
export type ResizableResources = RuntimeContainerResources;

function pick(r: CriLinuxResources): ResizableResources {
  return { cpuShares: r.cpuShares, cpuQuota: r.cpuQuota, cpuPeriod: r.cpuPeriod, memoryLimitInBytes: r.memoryLimitInBytes };
}

/** A quota or memory limit of zero or below is "no limit" whichever way the runtime spells it. */
function limitOf(value: number): number {
  return value > 0 ? value : 0;
}

/** Which resources differ between what the runtime applied and what the allocation asks for. */
export function changedResources(desired: ResizableResources, actual: ResizableResources): ResizeResource[] {
  const out: ResizeResource[] = [];
  if (limitOf(desired.memoryLimitInBytes) !== limitOf(actual.memoryLimitInBytes)) out.push('memory');
  if (desired.cpuShares !== actual.cpuShares || limitOf(desired.cpuQuota) !== limitOf(actual.cpuQuota)) out.push('cpu');
  return out;
}

/** resizePolicy for a resource; without an entry the implicit default is NotRequired. */
export function requiresRestart(container: V1Container, resource: ResizeResource): boolean {
  return (container.resizePolicy ?? []).some((p) => p.resourceName === resource && p.restartPolicy === 'RestartContainer');
}

/**
 * Every sync asks this for every running container: pod objects are values (a spec change brings a new
 * one), so the answer is kept per pod, container and options object.
 */
const desiredCache = new WeakMap<V1Pod, WeakMap<V1Container, { readonly options: CriResourceOptions; readonly value: ResizableResources }>>();

/** The CRI settings the allocated spec asks for (the same computation CreateContainer uses). */
export function desiredResources(pod: V1Pod, container: V1Container, options: CriResourceOptions): ResizableResources {
  let byContainer = desiredCache.get(pod);
  const hit = byContainer?.get(container);
  if (hit !== undefined && hit.options === options) return hit.value;
  const value = pick(containerLinuxResources(pod, container, options));
  if (byContainer === undefined) desiredCache.set(pod, (byContainer = new WeakMap()));
  byContainer.set(container, { options, value });
  return value;
}

/**
 * What a sync does about a running container's resources. A runtime that reports none gives nothing
 * to compare (upstream defaults the current values to the desired ones then).
 */
export function resizeDecision(pod: V1Pod, container: V1Container, actual: ResizableResources | undefined, options: CriResourceOptions): ResizeDecision {
  if (actual === undefined) return 'none';
  const changed = changedResources(desiredResources(pod, container, options), actual);
  if (changed.length === 0) return 'none';
  return changed.some((r) => requiresRestart(container, r)) ? 'restart' : 'update';
}

/** Regular containers and sidecars: the containers a resize applies to. */
export function resizableContainers(pod: V1Pod): V1Container[] {
  return [...initContainersOf(pod).filter(isRestartableInitContainer), ...containersOf(pod)];
}

/** True while some running container's applied settings differ from its allocation (PodResizeInProgress). */
export function isResizeInProgress(pod: V1Pod, runtime: RuntimePodStatus, options: CriResourceOptions): boolean {
  return resizableContainers(pod).some((c) => {
    const s = findContainerStatus(runtime, c.name);
    if (!s || s.state !== 'running' || s.resources === undefined) return false;
    return changedResources(desiredResources(pod, c, options), s.resources).length > 0;
  });
}

export type ResizeStep =
  | { readonly kind: 'pod-cgroup'; readonly resource: ResizeResource }
  | { readonly kind: 'container'; readonly resource: ResizeResource; readonly name: string; readonly containerId: string; readonly resources: CriLinuxResources };

/** The pod's total of one resource as the cgroups hold it: memory limit, or cpu shares then quota. */
function total(list: readonly ResizableResources[], resource: ResizeResource): [number, number] {
  if (resource === 'memory') return [list.reduce((s, r) => s + limitOf(r.memoryLimitInBytes), 0), 0];
  return [list.reduce((s, r) => s + r.cpuShares, 0), list.reduce((s, r) => s + limitOf(r.cpuQuota), 0)];
}

function compare(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

/**
 * The ordered CRI and cgroup writes that bring the named running containers to their allocation
 * without a restart. Each container step carries the full LinuxContainerResources to send: the
 * resource being resized at its new value, the other one as it stands at that point.
 */
export function planPodResize(pod: V1Pod, runtime: RuntimePodStatus, names: readonly string[], options: CriResourceOptions): ResizeStep[] {
  interface Entry { name: string; id: string; desired: CriLinuxResources; current: ResizableResources }
  const entries: Entry[] = [];
  for (const c of resizableContainers(pod)) {
    if (!names.includes(c.name)) continue;
    const s = findContainerStatus(runtime, c.name);
    if (!s || s.state !== 'running' || s.resources === undefined) continue;
    entries.push({ name: c.name, id: s.id, desired: containerLinuxResources(pod, c, options), current: { ...s.resources } });
  }
  const steps: ResizeStep[] = [];
  for (const resource of ['memory', 'cpu'] as const) {
    const moving = entries.filter((e) => changedResources(pick(e.desired), e.current).includes(resource));
    if (moving.length === 0) continue;
    const before = total(moving.map((e) => e.current), resource);
    const after = total(moving.map((e) => pick(e.desired)), resource);
    const direction = compare(after, before);
    // Shrinking containers first frees room for the growing ones under the same pod limit.
    const ordered = [...moving].sort((a, b) => compare(total([pick(a.desired)], resource), total([a.current], resource)) - compare(total([pick(b.desired)], resource), total([b.current], resource)));
    if (direction > 0) steps.push({ kind: 'pod-cgroup', resource });
    for (const e of ordered) {
      const next: ResizableResources =
        resource === 'memory'
          ? { ...e.current, memoryLimitInBytes: e.desired.memoryLimitInBytes }
          : { ...e.current, cpuShares: e.desired.cpuShares, cpuQuota: e.desired.cpuQuota, cpuPeriod: e.desired.cpuPeriod };
      e.current = next;
      steps.push({ kind: 'container', resource, name: e.name, containerId: e.id, resources: { ...e.desired, ...next } });
    }
    if (direction < 0) steps.push({ kind: 'pod-cgroup', resource });
  }
  return steps;
}

/** Milli-CPU from cpu.shares (upstream sharesToMilliCPU): the request a runtime's shares stand for. */
export function sharesToMilliCpu(shares: number): number {
  if (shares <= 2) return 0;
  return Math.ceil((shares * 1000) / 1024);
}
