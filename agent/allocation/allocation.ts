import type { V1Container, V1Pod, V1ResourceRequirements } from '@kubernetes/client-node';
import { containersOf, initContainersOf, isRestartableInitContainer } from '../kuberuntime/pod-helpers.js';
import { podFitsResources } from '../resources/admission.js';
import { podRequests } from '../resources/pod-requests.js';
import type { ResourceListInput } from '../resources/resource-list.js';
import { parseResourceList } from '../resources/resource-list.js';

/**
 * Pod resource allocation, the pure part (upstream pkg/kubelet/allocation, Kubernetes 1.35): the
 * resources the kubelet admitted a pod's resizable containers with, how a pod looks with them in place
 * of its spec's, and whether a resize can be allocated: a request beyond node allocatable is
 * Infeasible, one that does not fit next to the other admitted pods is Deferred (retried later).
 */

/** Allocated resources by container name (regular containers and sidecars). */
export type PodAllocation = ReadonlyMap<string, V1ResourceRequirements>;

function resizable(pod: V1Pod): V1Container[] {
  return [...initContainersOf(pod).filter(isRestartableInitContainer), ...containersOf(pod)];
}

/** The allocation a pod is admitted with: its spec's resources, copied. */
export function allocationFromPod(pod: V1Pod): PodAllocation {
  const out = new Map<string, V1ResourceRequirements>();
  for (const c of resizable(pod)) out.set(c.name, structuredClone(c.resources ?? {}));
  return out;
}

/** Two resource lists equal as quantities ('1' and '1000m' are the same cpu). */
function sameList(a: Record<string, string> | undefined, b: Record<string, string> | undefined, field: string): boolean {
  const pa = parseResourceList(a, field);
  const pb = parseResourceList(b, field);
  const names = new Set([...Object.keys(pa), ...Object.keys(pb)]);
  for (const name of names) {
    const x = pa[name];
    const y = pb[name];
    if (x === undefined || y === undefined || x.cmp(y) !== 0) return false;
  }
  return true;
}

export function sameResources(a: V1ResourceRequirements | undefined, b: V1ResourceRequirements | undefined, field = 'resources'): boolean {
  return sameList(a?.requests, b?.requests, `${field}.requests`) && sameList(a?.limits, b?.limits, `${field}.limits`);
}

/** The pod with its allocation in place of the spec's resources (upstream UpdatePodFromAllocation); the same object when nothing differs. */
export function podWithAllocation(pod: V1Pod, allocation: PodAllocation | undefined): V1Pod {
  if (allocation === undefined || !resizeRequested(pod, allocation)) return pod;
  const apply = (list: V1Container[] | undefined): V1Container[] | undefined =>
    list?.map((c) => {
      const allocated = allocation.get(c.name);
      return allocated === undefined ? c : { ...c, resources: structuredClone(allocated) };
    });
  const spec = { ...pod.spec!, containers: apply(pod.spec?.containers) ?? [] };
  const inits = apply(pod.spec?.initContainers);
  if (inits !== undefined) spec.initContainers = inits;
  return { ...pod, spec };
}

/** The spec asks for resources other than those allocated. */
export function resizeRequested(pod: V1Pod, allocation: PodAllocation): boolean {
  return resizable(pod).some((c) => {
    const allocated = allocation.get(c.name);
    return allocated !== undefined && !sameResources(c.resources, allocated, `container ${c.name}`);
  });
}

export type ResizeFeasibility =
  | { readonly fit: true }
  | { readonly fit: false; readonly reason: 'Infeasible' | 'Deferred'; readonly message: string };

export interface FeasibilityInput {
  /** The pod with the resources its spec now asks for. */
  readonly pod: V1Pod;
  /** The other admitted pods, each with its allocated resources. */
  readonly otherPods: readonly V1Pod[];
  readonly allocatable: ResourceListInput;
}

/**
 * Can the resize be allocated? Memory is checked before cpu against allocatable alone (Infeasible:
 * "Node didn't have enough capacity: memory, requested: <bytes>, capacity: <bytes>", cpu in
 * millicores), then the pod must fit next to the others as at admission (Deferred, with the
 * admission's "Node didn't have enough resource: ..." message).
 */
export function resizeFeasibility(input: FeasibilityInput): ResizeFeasibility {
  const allocatable = parseResourceList(input.allocatable, 'allocatable');
  const requests = podRequests(input.pod);
  const cpuWanted = requests.cpu?.milliValue() ?? 0n;
  const memWanted = requests.memory?.value() ?? 0n;
  const cpuHave = allocatable.cpu?.milliValue() ?? 0n;
  const memHave = allocatable.memory?.value() ?? 0n;
  if (memWanted > memHave) {
    return { fit: false, reason: 'Infeasible', message: `Node didn't have enough capacity: memory, requested: ${memWanted}, capacity: ${memHave}` };
  }
  if (cpuWanted > cpuHave) {
    return { fit: false, reason: 'Infeasible', message: `Node didn't have enough capacity: cpu, requested: ${cpuWanted}, capacity: ${cpuHave}` };
  }
  const fit = podFitsResources(input.pod, { allocatable: input.allocatable, admittedPods: input.otherPods });
  if (!fit.admit) return { fit: false, reason: 'Deferred', message: fit.message };
  return { fit: true };
}

/**
 * The body of the kubelet's resize events (upstream podResizeMessage): the resources of the sidecars
 * and regular containers as JSON with the pod's generation, and the error when there is one.
 */
export function resizeEventMessage(prefix: string, pod: V1Pod, generation: number, error = ''): string {
  const entry = (c: V1Container) => ({ name: c.name, ...(c.resources && Object.keys(c.resources).length > 0 ? { resources: c.resources } : {}) });
  const sidecars = initContainersOf(pod).filter(isRestartableInitContainer).map(entry);
  const summary = {
    ...(sidecars.length > 0 ? { initContainers: sidecars } : {}),
    containers: containersOf(pod).map(entry),
    generation,
    ...(error !== '' ? { error } : {}),
  };
  return `${prefix}: ${JSON.stringify(summary)}`;
}
